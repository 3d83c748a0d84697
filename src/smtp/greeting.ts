// smtp-server waits a fixed 100 ms before every 220 greeting ("early talker" detection, hard-coded in
// SMTPConnection.init). A client that opens one connection per message (smtp-source, most application
// mailers) then spends 100 ms of every message waiting: 20 sessions could never submit more than 200
// messages/s, whatever the CPU. Postfix's smtpd greets at once (the pregreet test belongs to postscreen, on
// port 25 MX service, not on submission, where clients authenticate or come from trusted networks).
// This makes our server greet as soon as the connection is set up. A client that talks before the
// greeting is still refused by smtp-server ("421 You talk too soon") when its bytes arrive first.
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { SMTPServer } from 'smtp-server';

/** Replaces the server's connect() with one that greets without the delay; false if smtp-server changed shape. */
export function greetWithoutDelay(server: SMTPServer): boolean {
  const proto = (SMTPConnection as any)?.prototype;
  if (typeof proto?._setListeners !== 'function' || typeof proto?.connectionReady !== 'function') return false;
  const s = server as any;
  s.connect = function connect(socket: unknown, socketOptions: unknown) {
    const connection = new (SMTPConnection as any)(s, socket, socketOptions);
    s.connections.add(connection);
    connection.on('error', (err: Error) => s._onError(err));
    connection.on('connect', (data: unknown) => s._onClientConnect(data));
    // SMTPConnection.init() without its setTimeout(connectionReady, 100).
    connection._setListeners(() => {
      if (s.options.maxClients && s.connections.size > s.options.maxClients) {
        return connection.send(421, connection.name + ' Too many connected clients, try again in a moment', false);
      }
      connection.connectionReady();
    });
  };
  return true;
}

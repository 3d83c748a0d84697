// A smarthost for cluster tests: a real SMTP server (smtp-server) on a loopback port that keeps every
// delivered message and counts deliveries per (Message-ID, recipient), so a test can see a copy delivered
// twice or not at all. `fail` makes it answer 4xx (a smarthost having trouble).
import { SMTPServer } from 'smtp-server';

export interface Delivery { messageId: string; rcpt: string; raw: string }

export interface Sink {
  port: number;
  deliveries: Delivery[];
  /** Deliveries per "<Message-ID> rcpt". */
  counts(): Map<string, number>;
  fail: boolean;
  close(): Promise<void>;
}

export async function startSink(): Promise<Sink> {
  const sink = { deliveries: [] as Delivery[], fail: false } as Sink;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(_addr, _session, cb) {
      if (sink.fail) {
        const e = new Error('try again later') as Error & { responseCode: number };
        e.responseCode = 451;
        return cb(e);
      }
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('latin1');
        const messageId = /^message-id:\s*(\S+)/im.exec(raw)?.[1] ?? '';
        for (const r of session.envelope.rcptTo) sink.deliveries.push({ messageId, rcpt: r.address, raw });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  sink.port = (server.server.address() as { port: number }).port;
  sink.counts = () => {
    const m = new Map<string, number>();
    for (const d of sink.deliveries) m.set(`${d.messageId} ${d.rcpt}`, (m.get(`${d.messageId} ${d.rcpt}`) ?? 0) + 1);
    return m;
  };
  sink.close = () => new Promise((r) => server.close(() => r()));
  return sink;
}

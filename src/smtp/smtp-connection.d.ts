// smtp-server's connection class (used by greeting.ts); @types/smtp-server does not declare this path.
declare module 'smtp-server/lib/smtp-connection.js' {
  export const SMTPConnection: unknown;
}

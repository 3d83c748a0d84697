// First start with an empty store: make a demo account and print its dashboard login, API key and SMTP
// credentials once, so a newcomer can try everything without another command.
import { createAccount } from '../accounts/account-service.ts';
import { randomPassword } from '../domain/secrets.ts';
import type { AppContext } from '../app-context.ts';

export async function ensureDemoAccount(ctx: AppContext, announce: (text: string) => void): Promise<void> {
  if ((await ctx.store.accounts.count()) > 0) return;
  const email = 'demo@mailbeacon.local';
  const password = randomPassword(12);
  let creds;
  try {
    creds = await createAccount(ctx.store, { email, password, name: 'Demo' }, ctx.clock.now());
  } catch (e: any) {
    // Another node created it at the same moment.
    if (e?.code === 'email_taken') return;
    throw e;
  }
  const url = ctx.config.publicUrl;
  announce(
    [
      '',
      '  Mailbeacon demo account (shown once; keep it somewhere safe)',
      `  Dashboard:      ${url}/  (log in as ${email} / ${password})`,
      `  API key:        ${creds.apiKey}`,
      `  SMTP:           ${ctx.config.host}:${ctx.config.smtpPort}  user ${creds.smtpUsername}  password ${creds.smtpPassword}`,
      '',
      '',
    ].join('\n'),
  );
}

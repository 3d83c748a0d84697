// Starts a real Mailbeacon server in-process on loopback ports (port 0) with a fresh store, for tests that
// talk HTTP or SMTP to it. Returns the base URLs and a stop() that also removes the store.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load-config.ts';
import { createContext } from '../../src/server/create-context.ts';
import { startServer, type RunningServer } from '../../src/server/server.ts';
import type { Role } from '../../src/server/service.ts';
import type { Clock } from '../../src/app-context.ts';
import { createAccount, type NewAccountCredentials } from '../../src/accounts/account-service.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createTestDatabase } from './dialects.ts';
import type { DialectName } from '../../src/store/database.ts';

export interface TestServer {
  server: RunningServer;
  baseUrl: string;
  dataDir: string;
  /** Creates an account (user + API key + SMTP credential). */
  account(email?: string): Promise<NewAccountCredentials>;
  stop(): Promise<void>;
}

let counter = 0;

export async function startTestServer(opts: { dialect?: DialectName; env?: Record<string, string>; roles?: Role[]; clock?: Clock } = {}): Promise<TestServer> {
  const tdb = await createTestDatabase(opts.dialect ?? 'sqlite');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-data-'));
  const config = loadConfig({
    MAILBEACON_DATABASE_URL: tdb.url,
    MAILBEACON_DATA_DIR: dataDir,
    MAILBEACON_HTTP_PORT: '0',
    MAILBEACON_SMTP_PORT: '0',
    MAILBEACON_LOG_LEVEL: process.env.MAILBEACON_TEST_LOG_LEVEL ?? 'silent',
    MAILBEACON_SECRET: 'test-secret-test-secret-test-secret-0123',
    ...opts.env,
  });
  const ctx = await createContext(config, { clock: opts.clock, log: createLogger(config.logLevel) });
  const server = await startServer(ctx, { roles: opts.roles, demoAccount: false });
  const baseUrl = `http://127.0.0.1:${server.httpPort}`;
  return {
    server,
    baseUrl,
    dataDir,
    account: (email) => createAccount(ctx.store, { email: email ?? `user${++counter}-${Date.now()}@example.test`, password: 'correct horse battery' }),
    stop: async () => {
      await server.stop();
      await tdb.cleanup();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

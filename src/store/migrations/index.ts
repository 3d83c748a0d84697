// Versioned, forward-only migrations, shipped in the code and applied in name order at boot and by
// `mailbeacon migrate`. Add a new file for every change; never edit one that has shipped.
import type { MigrationContext } from './column-types.ts';
import * as m0001 from './0001-foundation.ts';
import * as m0400 from './0400-tracking.ts';
import * as m0600 from './0600-tracking-domains.ts';
import * as m0700 from './0700-dashboard-sessions.ts';
import * as m0401 from './0401-tracking-firsts.ts';
import * as m0800 from './0800-webhooks.ts';
import * as m0500 from './0500-outbound.ts';
import * as m0402 from './0402-tracking-events-index.ts';

export interface MigrationModule {
  up(ctx: MigrationContext): Promise<void>;
}

export const migrations: Record<string, MigrationModule> = {
  '0001-foundation': m0001,
  '0400-tracking': m0400,
  '0600-tracking-domains': m0600,
  '0700-dashboard-sessions': m0700,
  '0401-tracking-firsts': m0401,
  '0800-webhooks': m0800,
  '0500-outbound': m0500,
  '0402-tracking-events-index': m0402,
};

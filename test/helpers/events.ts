// Inserting events and rollups straight through the store, as the tracking and outbound features would.
import type { Store } from '../../src/store/store.ts';
import type { EventsTable, RollupsHourlyTable } from '../../src/store/schema.ts';

export type NewEvent = Partial<Omit<EventsTable, 'id'>> & { accountId: string; type: string };

export async function insertEvents(store: Store, events: NewEvent[], now = Date.now()): Promise<number[]> {
  const rows = events.map((e) => ({
    domainId: null, messageId: null, copyId: null, createdAt: now, recipient: null, linkIndex: null, url: null, ip: null, userAgent: null,
    clientName: null, clientVersion: null, os: null, device: null, classification: null, reason: null, isFirst: 0, data: null, ...e,
  }));
  const ids: number[] = [];
  for (let i = 0; i < rows.length; i += 200) {
    const r = await store.db.kysely.insertInto('events').values(rows.slice(i, i + 200)).returning('id').execute();
    ids.push(...r.map((x) => Number(x.id)));
  }
  return ids;
}

export async function insertRollup(store: Store, r: Partial<RollupsHourlyTable> & { accountId: string; hour: number }): Promise<void> {
  await store.db.kysely.insertInto('rollupsHourly').values({ domainId: '', delivered: 0, opens: 0, uniqueOpens: 0, humanOpens: 0, machineOpens: 0, clicks: 0, uniqueClicks: 0, ...r }).execute();
}

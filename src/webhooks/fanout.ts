// Which events go to which webhooks (pure): the event types a webhook asked for, its account, its domain
// when it has one, and only events newer than the webhook itself.
import { newId } from '../domain/ids.ts';
import { eventPublicId, webhookPayload, type EventRow } from '../events/public-event.ts';
import type { WebhookDeliveriesTable, WebhooksTable } from '../store/schema.ts';

export const WEBHOOK_EVENT_TYPES = ['accepted', 'delivered', 'deferred', 'bounced', 'open', 'click'] as const;

export function webhookEvents(w: Pick<WebhooksTable, 'events'>): string[] {
  try {
    const v = JSON.parse(w.events);
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
}

export function matches(w: Pick<WebhooksTable, 'accountId' | 'events' | 'domainId' | 'fromEventId' | 'enabled'>, e: EventRow, types = webhookEvents(w)): boolean {
  return !!w.enabled && w.accountId === e.accountId && e.id > w.fromEventId && types.includes(e.type) && (w.domainId == null || w.domainId === e.domainId);
}

export function newDelivery(w: Pick<WebhooksTable, 'id' | 'accountId'>, eventId: string, type: string, payload: string, now: number, replayOf: string | null = null): WebhookDeliveriesTable {
  return {
    id: newId('whd_', now), webhookId: w.id, accountId: w.accountId, eventId, type, payload, status: 'pending', attempts: 0,
    nextAttemptAt: now, lockedBy: null, lockedUntil: null, lastStatusCode: null, lastError: null, replayOf, createdAt: now, completedAt: null,
  };
}

/** The deliveries for a batch of events: one per (matching webhook, event). */
export function planDeliveries(events: EventRow[], webhooks: WebhooksTable[], now: number): WebhookDeliveriesTable[] {
  const out: WebhookDeliveriesTable[] = [];
  const typed = webhooks.map((w) => ({ w, types: webhookEvents(w) }));
  for (const e of events) {
    let payload: string | undefined;
    for (const { w, types } of typed) {
      if (!matches(w, e, types)) continue;
      payload ??= webhookPayload(e);
      out.push(newDelivery(w, eventPublicId(e.id), e.type, payload, now));
    }
  }
  return out;
}

/**
 * How far the cursor may move over a batch of events read in id order. On PostgreSQL a serial id is taken
 * when a row is inserted but becomes visible at commit, so a missing id may be a transaction still in
 * flight: stop before a gap until it has been seen for `graceMs` (then it was a rollback, skip it).
 * `gapSince` remembers when each gap was first seen (caller-owned, per node). Returns the events to handle.
 */
export function contiguousPrefix(events: EventRow[], cursor: number, gapSince: Map<number, number>, nowMs: number, graceMs: number): EventRow[] {
  let expected = cursor + 1;
  let i = 0;
  for (; i < events.length; i++) {
    const id = events[i].id;
    if (id !== expected) {
      const first = gapSince.get(expected);
      if (first === undefined) {
        gapSince.set(expected, nowMs);
        break;
      }
      if (nowMs - first < graceMs) break;
      gapSince.delete(expected);
    }
    expected = id + 1;
  }
  for (const k of gapSince.keys()) if (k <= cursor) gapSince.delete(k);
  return events.slice(0, i);
}

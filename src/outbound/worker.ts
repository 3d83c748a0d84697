// The delivery worker (role worker): claims due copies with a lease, runs each through the delivery
// pipeline with at most MAILBEACON_RELAY_CONCURRENCY in flight, and records results in group commits
// (status + attempt + event + rollup + outbox row in one transaction). No store transaction is ever open
// while network I/O runs, so SQLite's single writer is never held by a slow smarthost.
import type { AppContext } from '../app-context.ts';
import type { Service } from '../server/service.ts';
import { newId } from '../domain/ids.ts';
import type { DeliveryResult } from '../store/messages-repo.ts';
import type { MessageCopiesTable, MessagesTable } from '../store/schema.ts';
import { keyringFromSecret, TokenSigner } from '../tracking/tokens.ts';
import { DomainCache, runPipeline, type DeliveryJob, type PipelineDeps } from './delivery-pipeline.ts';
import { GroupCommitter } from './group-commit.ts';
import { queueSignal } from './queue-signal.ts';
import { afterTemporaryFailure } from './retry.ts';
import { defaultRewriter } from './rewrite-step.ts';
import { createTransport, type DeliveryOutcome, type Transport } from './transports.ts';

const POLL_MS = 1000;
const MAX_CLAIM = 100;

export interface WorkerOptions {
  transport?: Transport;
  pollMs?: number;
}

export function createWorkerService(ctx: AppContext, opts: WorkerOptions = {}): Service {
  const { store, log, config } = ctx;
  const concurrency = config.relayConcurrency;
  const pollMs = opts.pollMs ?? POLL_MS;
  const deliveries = ctx.metrics.counter('mailbeacon_deliveries_total', 'Delivery attempts by result', ['result']);
  const inflight = new Set<Promise<void>>();
  let running = false;
  let loopDone: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  let transport: Transport | undefined;
  let deps: PipelineDeps | undefined;
  const completer = new GroupCommitter<DeliveryResult>((rs) => store.messages.completeBatch(rs, ctx.nodeId), 200);
  // A nudge that arrives while the loop is busy claiming is remembered, so the next sleep returns at once.
  let nudged = false;
  const nudge = () => {
    nudged = true;
    wakeUp?.();
  };
  const onDue = nudge;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (nudged || !running) {
        nudged = false;
        return resolve();
      }
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        wakeUp = undefined;
        nudged = false;
        resolve();
      }
      wakeUp = done;
    });

  function resultOf(job: DeliveryJob, outcome: DeliveryOutcome, startedAt: number): DeliveryResult {
    const now = ctx.clock.now();
    const attempt = job.copy.attempts + 1;
    let status: DeliveryResult['status'];
    let nextAttemptAt = job.copy.nextAttemptAt;
    let lastError: string | null = null;
    if (outcome.kind === 'delivered') status = 'delivered';
    else if (outcome.kind === 'permanent') {
      status = 'bounced';
      lastError = outcome.response;
    } else {
      const d = afterTemporaryFailure({ now, acceptedAt: job.message.createdAt, attempts: attempt, scheduleSeconds: config.retrySchedule, giveUpAfterSeconds: config.giveUpAfter });
      status = d.status;
      nextAttemptAt = d.nextAttemptAt;
      lastError = d.reason ? `${outcome.response} (${d.reason})` : outcome.response;
    }
    const relay = deps!.transport.name;
    const data: Record<string, unknown> = { code: outcome.code, response: outcome.response, relay, attempt };
    if (status === 'deferred') data.nextAttemptAt = new Date(nextAttemptAt).toISOString();
    if (job.failedStep) data.step = job.failedStep;
    return {
      copy: job.copy,
      status,
      nextAttemptAt,
      lastError,
      trackingBase: job.trackingBase,
      at: now,
      data,
      attempt: {
        copyId: job.copy.id, messageId: job.copy.messageId, accountId: job.copy.accountId, attempt, startedAt, durationMs: Math.max(0, now - startedAt),
        result: status, smtpCode: outcome.code, response: outcome.response, relay, nodeId: ctx.nodeId,
      },
      outbox: status === 'delivered' && deps!.transport.isOutbox
        ? {
            id: newId('obx_', now), accountId: job.copy.accountId, messageId: job.copy.messageId, copyId: job.copy.id,
            mailFrom: job.message.mailFrom ?? job.message.fromAddress, recipient: job.copy.recipient, subject: job.message.subject,
            size: job.bytes.length, raw: job.bytes, createdAt: now,
          }
        : undefined,
    };
  }

  /**
   * Records a delivery result, retrying while the store is unreachable. The outcome is known (a smarthost
   * may already have the message), so recording it again is the only right move; waiting for the lease to
   * run out instead would deliver it a second time, or, with the outbox relay (the record IS the
   * delivery), leave the copy 'delivering' for the whole lease. Gives up when the worker stops or the
   * lease is about to end (the copy is then retried as before); a result whose lease another node took
   * meanwhile is skipped by completeBatch, so a late retry never records twice.
   */
  async function record(result: DeliveryResult, leaseEnd: number): Promise<boolean> {
    for (let delay = 250; ; delay = Math.min(delay * 2, 2000)) {
      try {
        await completer.submit(result);
        return true;
      } catch (err) {
        const giveUp = !running || ctx.clock.now() + delay >= leaseEnd;
        log.error({ event: 'outbound.record_failed', copyId: result.copy.id, err, retry: !giveUp }, giveUp ? 'could not record a delivery result; the copy is retried when its lease runs out' : 'could not record a delivery result; retrying');
        if (giveUp) return false;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async function deliver(copy: MessageCopiesTable, message: MessagesTable): Promise<void> {
    const startedAt = ctx.clock.now();
    const job: DeliveryJob = { copy, message, bytes: message.raw, tracking: { opens: false, clicks: false }, trackingBase: null };
    const outcome = await runPipeline(job, deps!);
    const result = resultOf(job, outcome, startedAt);
    deliveries.inc({ result: result.status });
    if (!(await record(result, copy.lockedUntil ?? startedAt + config.deliveryLease * 1000))) return;
    const level = result.status === 'delivered' ? 'debug' : 'info';
    log[level]({ event: `outbound.${result.status}`, messageId: copy.messageId, copyId: copy.id, code: outcome.code, response: outcome.response }, `copy ${result.status}`);
  }

  // Claimed copies not yet started. The worker keeps up to `concurrency` of them on hand so a finished
  // delivery is replaced at once, and claims in batches (one transaction for many copies) instead of one
  // claim per finished delivery.
  const ready: { copy: MessageCopiesTable; message: MessagesTable }[] = [];

  function dispatch(): void {
    while (running && inflight.size < concurrency && ready.length) {
      const { copy: c, message: m } = ready.shift()!;
      const p: Promise<void> = deliver(c, m).catch((err) => log.error({ event: 'outbound.deliver_crashed', err, copyId: c.id }, 'delivery crashed'));
      inflight.add(p);
      void p.finally(() => {
        inflight.delete(p);
        dispatch();
        if (ready.length + inflight.size <= concurrency) nudge();
      });
    }
  }

  async function loop(): Promise<void> {
    while (running) {
      const want = Math.min(2 * concurrency - inflight.size - ready.length, MAX_CLAIM);
      if (want <= 0 || ready.length + inflight.size > concurrency) {
        await sleep(pollMs);
        continue;
      }
      // One turn of the event loop first: nudges from the same I/O phase (accepted messages, finished
      // deliveries) become one claim.
      await new Promise((r) => setImmediate(r));
      let copies: MessageCopiesTable[];
      nudged = false;
      try {
        copies = await store.messages.claimDue(ctx.nodeId, ctx.clock.now(), want, ctx.config.deliveryLease * 1000);
      } catch (err) {
        log.error({ event: 'outbound.claim_failed', err }, 'claiming due copies failed');
        await sleep(pollMs);
        continue;
      }
      if (copies.length) {
        let messages: Map<string, MessagesTable>;
        try {
          messages = new Map((await store.messages.messagesByIds([...new Set(copies.map((c) => c.messageId))])).map((m) => [m.id, m]));
        } catch (err) {
          log.error({ event: 'outbound.load_failed', err }, 'loading claimed messages failed');
          await sleep(pollMs);
          continue;
        }
        for (const c of copies) {
          const m = messages.get(c.messageId);
          if (m) ready.push({ copy: c, message: m });
        }
        dispatch();
      }
      // Claimed fewer than we could take: nothing more is due now. Wait for a nudge or the poll.
      if (copies.length < want && running) await sleep(pollMs);
    }
  }

  return {
    name: 'worker',
    async start() {
      transport = opts.transport ?? createTransport(config);
      deps = {
        ctx,
        transport,
        rewrite: defaultRewriter,
        signer: new TokenSigner(keyringFromSecret(ctx.secret, config.tokenKeyIds)),
        domains: new DomainCache(ctx),
      };
      running = true;
      queueSignal(ctx).on('due', onDue);
      loopDone = loop();
      log.info({ event: 'outbound.worker_started', relay: transport.name, concurrency }, 'delivery worker started');
    },
    async stop() {
      if (!running) return;
      running = false;
      queueSignal(ctx).off('due', onDue);
      nudge();
      await loopDone;
      // Claimed but not started: give them back (they are due at once for the next worker).
      const unstarted = ready.splice(0).map((r) => r.copy.id);
      if (unstarted.length) {
        await store.messages.release(unstarted, ctx.nodeId).catch((err) => log.warn({ event: 'outbound.release_failed', err }, 'could not release claimed copies; their lease will run out'));
      }
      // Finish what is in flight (deliveries and their records), then close the pool.
      await Promise.allSettled([...inflight]);
      await completer.idle();
      await transport?.close();
    },
  };
}

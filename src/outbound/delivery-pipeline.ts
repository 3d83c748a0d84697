// One delivery attempt of one copy, as a pipeline of named steps that can stop early:
//   load domain settings → rewrite (pixel, links; always strips X-Mailbeacon-Track) → DKIM sign → deliver.
// A step stops the pipeline by setting job.outcome; a step that throws defers the copy (temporary).
import type { AppContext } from '../app-context.ts';
import type { DomainsTable, MessageCopiesTable, MessagesTable } from '../store/schema.ts';
import type { TokenSigner } from '../tracking/tokens.ts';
import { signMessage } from './dkim.ts';
import type { RewriteFn } from './rewrite-step.ts';
import type { DeliveryOutcome, Transport } from './transports.ts';
import { normalizeCrlf } from './message-headers.ts';
import { trackingAllowed } from '../domains/sending-rules.ts';
import { trackingBaseFor } from '../domains/tracking-base.ts';
import type { PixelPlacement } from '../rewrite/index.ts';

export interface DeliveryJob {
  copy: MessageCopiesTable;
  message: MessagesTable;
  domain?: DomainsTable;
  /** The bytes as they stand after the last step. */
  bytes: Buffer;
  tracking: { opens: boolean; clicks: boolean };
  trackingBase: string | null;
  /** The tracking base the domain uses (set by load-domain). */
  base?: string;
  outcome?: DeliveryOutcome;
  /** Which step produced a failure, for the attempt log. */
  failedStep?: string;
}

export interface PipelineDeps {
  ctx: AppContext;
  transport: Transport;
  rewrite: RewriteFn;
  signer: TokenSigner;
  domains: DomainCache;
}

export interface Step {
  name: string;
  run(job: DeliveryJob, deps: PipelineDeps): Promise<void>;
}

export interface DomainSettings {
  row: DomainsTable | undefined;
  /** Tracking allowed by the domain (dashboard + validated + its toggles). */
  tracking: { opens: boolean; clicks: boolean };
  /** Base URL for pixel and click URLs (the custom tracking domain when verified). */
  trackingBase: string;
}

/** Domain settings change rarely; the worker reads each domain at most every few seconds. */
export class DomainCache {
  private readonly rows = new Map<string, { v: DomainSettings; at: number }>();
  constructor(private readonly ctx: AppContext, private readonly ttlMs = 5000) {}

  async get(id: string | null): Promise<DomainSettings> {
    if (!id) return { row: undefined, tracking: { opens: false, clicks: false }, trackingBase: this.ctx.config.publicUrl };
    const now = Date.now();
    const hit = this.rows.get(id);
    if (hit && now - hit.at < this.ttlMs) return hit.v;
    const row = await this.ctx.store.domains.getById(id);
    const allowed = row ? trackingAllowed(row) : { opens: false, clicks: false };
    const v: DomainSettings = {
      row,
      tracking: { opens: allowed.opens, clicks: allowed.clicks },
      trackingBase: row ? await trackingBaseFor(this.ctx, row) : this.ctx.config.publicUrl,
    };
    this.rows.set(id, { v, at: now });
    return v;
  }
}

export const loadDomainStep: Step = {
  name: 'load-domain',
  async run(job, { domains }) {
    const settings = await domains.get(job.message.domainId);
    job.domain = settings.row;
    job.base = settings.trackingBase;
    const allowed = settings.tracking;
    // The message's flags (API track{} or X-Mailbeacon-Track: no) can only turn tracking off.
    job.tracking = {
      opens: allowed.opens && job.message.trackOpens !== 0,
      clicks: allowed.clicks && job.message.trackClicks !== 0,
    };
  },
};

export const rewriteStep: Step = {
  name: 'rewrite',
  async run(job, { ctx, rewrite, signer }) {
    const base = job.base ?? ctx.config.publicUrl;
    const warnings: string[] = [];
    const r = await rewrite(job.bytes, {
      signer,
      trackingBase: base,
      copyId: job.copy.id,
      opens: job.tracking.opens,
      clicks: job.tracking.clicks,
      pixel: (job.domain?.pixelPlacement ?? 'bottom') as PixelPlacement,
      onWarning: (w) => warnings.push(w),
    });
    job.bytes = r.output;
    // X-Mailbeacon-Track in the message turned these off (the rewriter removed the header either way).
    if (r.optOut.opens) job.tracking.opens = false;
    if (r.optOut.clicks) job.tracking.clicks = false;
    job.trackingBase = job.tracking.opens || job.tracking.clicks ? base : null;
    if (warnings.length) ctx.log.debug({ event: 'outbound.rewrite_warnings', copyId: job.copy.id, warnings }, 'rewrite warnings');
  },
};

export const dkimStep: Step = {
  name: 'dkim-sign',
  async run(job, { ctx }) {
    const d = job.domain;
    if (!d || !d.dkimPrivateKey || !d.dkimSelector) {
      job.bytes = normalizeCrlf(job.bytes);
      return;
    }
    job.bytes = await signMessage(job.bytes, { domain: d.name, selector: d.dkimSelector, privateKey: d.dkimPrivateKey }, ctx.clock.now());
  },
};

export const deliverStep: Step = {
  name: 'deliver',
  async run(job, { transport }) {
    job.outcome = await transport.send({ from: job.message.mailFrom ?? job.message.fromAddress, to: job.copy.recipient }, job.bytes);
  },
};

export const STEPS: Step[] = [loadDomainStep, rewriteStep, dkimStep, deliverStep];

export async function runPipeline(job: DeliveryJob, deps: PipelineDeps, steps: Step[] = STEPS): Promise<DeliveryOutcome> {
  for (const step of steps) {
    try {
      await step.run(job, deps);
    } catch (err) {
      job.failedStep = step.name;
      deps.ctx.log.warn({ event: 'outbound.step_failed', step: step.name, copyId: job.copy.id, err }, 'delivery step failed');
      return { kind: 'temporary', code: null, response: `${step.name} failed: ${(err as Error)?.message ?? String(err)}` };
    }
    if (job.outcome) return job.outcome;
  }
  return job.outcome ?? { kind: 'temporary', code: null, response: 'no delivery step ran' };
}

// The rewrite step's view of the rewriter (src/rewrite, built beside this): every copy goes through it,
// because it always removes X-Mailbeacon-Track; it injects the pixel and rewrites links only when asked.
import type { TokenSigner } from '../tracking/tokens.ts';
import { headerEnd } from './message-headers.ts';

export interface RewriteOptions {
  signer: TokenSigner;
  trackingBase: string;
  copyId: string;
  opens: boolean;
  clicks: boolean;
  pixel?: string;
  onWarning?: (w: unknown) => void;
}

export interface RewriteResult {
  output: Buffer;
  pixels: number;
  links: number;
  warnings: unknown[];
  optOut: boolean;
}

export type RewriteFn = (input: Buffer, opts: RewriteOptions) => Promise<RewriteResult> | RewriteResult;

/** Without the rewriter: only remove the X-Mailbeacon-Track header (it must never leave us). */
export function stripTrackHeader(input: Buffer): RewriteResult {
  const { headerLength } = headerEnd(input);
  const head = input.subarray(0, headerLength).toString('latin1');
  const optOut = /^x-mailbeacon-track:[ \t]*(no|off|false|0)[ \t]*\r?$/im.test(head);
  const cleaned = head.replace(/^x-mailbeacon-track:.*(?:\r?\n[ \t].*)*(?:\r?\n|$)/gim, '');
  const output = cleaned.length === head.length ? input : Buffer.concat([Buffer.from(cleaned, 'latin1'), input.subarray(headerLength)]);
  return { output, pixels: 0, links: 0, warnings: [], optOut };
}

let loaded: Promise<RewriteFn> | undefined;

/** The rewriter when it is part of this build; the header-stripping fallback otherwise. */
export function loadRewriter(): Promise<RewriteFn> {
  loaded ??= (async () => {
    const path = '../rewrite/index.ts';
    try {
      const mod = (await import(path)) as { rewriteMessage?: RewriteFn };
      if (typeof mod.rewriteMessage === 'function') return mod.rewriteMessage;
    } catch {
      /* not built yet */
    }
    return (input: Buffer) => stripTrackHeader(input);
  })();
  return loaded;
}

// The rewrite step's view of the rewriter (src/rewrite): every copy goes through it, because it always
// removes X-Mailbeacon-Track; it injects the pixel and rewrites links only when asked.
import { rewriteMessage, type RewriteOptions, type RewriteResult } from '../rewrite/index.ts';

export type { RewriteOptions, RewriteResult };

export type RewriteFn = (input: Buffer, opts: RewriteOptions) => Promise<RewriteResult>;

export const defaultRewriter: RewriteFn = rewriteMessage;

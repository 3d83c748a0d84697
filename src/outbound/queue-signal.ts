// In-process nudge from the front doors to the worker: "new copies are due". Other nodes find them by polling.
import { EventEmitter } from 'node:events';
import type { AppContext } from '../app-context.ts';

const signals = new WeakMap<AppContext, EventEmitter>();

export function queueSignal(ctx: AppContext): EventEmitter {
  let s = signals.get(ctx);
  if (!s) {
    s = new EventEmitter();
    s.setMaxListeners(0);
    signals.set(ctx, s);
  }
  return s;
}

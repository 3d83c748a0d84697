// What the HTTP thread and the journal's ingest worker share: a small Int32Array over a SharedArrayBuffer
// (positions, counters, wake-ups) so neither pays a message per batch.
import type { ClassifyOptions } from './classify.ts';

export const S = {
  /** Where the writer's last complete write ends. */
  WRITE_SEQ: 0,
  WRITE_OFF: 1,
  /** The ingest checkpoint after the worker's last step. */
  READ_SEQ: 2,
  READ_OFF: 3,
  /** Bumped (and notified) after every write. */
  GEN: 4,
  /** 1: finish what is in the journal, then exit. */
  STOP: 5,
  /** 1: exit even if the store keeps failing. */
  STOP_NOW: 6,
  PIXEL_RECORDED: 7,
  PIXEL_UNKNOWN: 8,
  CLICK_RECORDED: 9,
  CLICK_UNKNOWN: 10,
  ERRORS: 11,
  /** Microseconds spent in ingest transactions (wraps after ~35 min of pure ingest: read as a rate). */
  INGEST_US: 12,
  /** When the worker's current ingest transaction began (ms since JournalWorkerData.epoch); 0: none open. */
  TX_SINCE: 13,
  SIZE: 16,
} as const;

export interface JournalWorkerData {
  dbFile: string;
  dir: string;
  shared: SharedArrayBuffer;
  classify: ClassifyOptions;
  maxHits: number;
  /** Nice value for the worker thread (0: unchanged). */
  nice: number;
  /** Date.now() of the HTTP thread when it started the worker: TX_SINCE counts from it. */
  epoch: number;
}

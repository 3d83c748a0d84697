// The tracking event journal (SQLite stores): an append-only file of verified pixel loads and clicks beside
// the database, so the pixel can be answered as soon as the hit is in the file and the SQLite work (copy
// lookup, classification, first-open claims, events, rollups) runs later, off the HTTP thread.
//
// Layout: `<database file>.events-journal/<seq>.seg`, segments numbered upwards; the newest is the one being
// written. A record is one line of JSON (an array, see encodeHit) ended by "\n". A batch of records goes to the
// file in ONE write(2) before any request of the batch is answered: once write() returned, the bytes are in the
// kernel's page cache and survive kill -9 of the process (the same guarantee SQLite WAL with synchronous=NORMAL
// gives the store itself; an OS crash or power loss can lose the last ones in both).
//
// Ingestion: the checkpoint (segment, byte offset of the next record) is a kv row written in the SAME SQLite
// transaction as the events and rollups of the records it covers, and read again inside that transaction
// (BEGIN IMMEDIATE holds the write lock). So a record is ingested exactly once, after a crash at any point and
// even when two processes ingest the same journal (the server and `mailbeacon backup`). A segment older than
// the newest one is sealed: no one writes it again, so bytes after its last "\n" are a torn record (a write
// cut short) and are skipped with a warning. Fully ingested sealed segments are deleted.
import fs from 'node:fs';
import path from 'node:path';
import type { TrackingRepo } from '../store/tracking-repo.ts';
import type { EventWriter, TrackHit } from './event-writer.ts';

export const CHECKPOINT_KEY = 'tracking.journal.checkpoint';
/** A new segment is started once the current one is this big. */
export const SEGMENT_BYTES = 64 * 1024 * 1024;

export interface Position {
  seq: number;
  offset: number;
}

export const comparePos = (a: Position, b: Position) => a.seq - b.seq || a.offset - b.offset;

/** The journal directory of a SQLite store file: next to it, so backup and restore find it from the store path. */
export function journalDirFor(dbFile: string): string {
  return `${path.resolve(dbFile)}.events-journal`;
}

const segName = (seq: number) => `${String(seq).padStart(12, '0')}.seg`;

/** Segment numbers present in `dir`, ascending. */
export function listSegments(dir: string): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: number[] = [];
  for (const n of names) {
    const m = /^(\d{12})\.seg$/.exec(n);
    if (m) out.push(Number(m[1]));
  }
  return out.sort((a, b) => a - b);
}

/**
 * One hit as a JSON array: [kind (0 open, 1 click), method (0 GET, 1 HEAD, else the name), copyId, at, ip,
 * userAgent, linkIndex?, url?]. JSON escapes line breaks, so a record never spans two lines.
 */
export function encodeHit(h: TrackHit): string {
  const m = h.method === 'GET' ? '0' : h.method === 'HEAD' ? '1' : JSON.stringify(h.method);
  // Built by hand on the pixel's hot path: ids and canonical addresses need no escaping when they are
  // plain, and the few user agents a node sees are escaped once.
  const head = `${m},${SAFE.test(h.copyId) ? `"${h.copyId}"` : JSON.stringify(h.copyId)},${h.at},${SAFE_IP.test(h.ip) ? `"${h.ip}"` : JSON.stringify(h.ip)},${uaJson(h.userAgent)}`;
  return h.kind === 'open' ? `[0,${head}]` : `[1,${head},${h.linkIndex ?? 0},${JSON.stringify(h.url ?? '')}]`;
}

const SAFE = /^[A-Za-z0-9_-]*$/;
const SAFE_IP = /^[0-9a-fA-F.:]*$/;
const uaCache = new Map<string, string>();
function uaJson(ua: string): string {
  let j = uaCache.get(ua);
  if (j === undefined) {
    if (uaCache.size >= 2000) uaCache.clear();
    uaCache.set(ua, (j = JSON.stringify(ua)));
  }
  return j;
}

export function decodeHit(line: string): TrackHit | undefined {
  let a: unknown;
  try {
    a = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!Array.isArray(a) || a.length < 6) return undefined;
  const [k, m, copyId, at, ip, userAgent] = a as unknown[];
  if ((k !== 0 && k !== 1) || typeof copyId !== 'string' || typeof at !== 'number' || typeof ip !== 'string' || typeof userAgent !== 'string') return undefined;
  const method = m === 0 ? 'GET' : m === 1 ? 'HEAD' : typeof m === 'string' ? m : undefined;
  if (!method) return undefined;
  if (k === 0) return { kind: 'open', method, copyId, at, ip, userAgent };
  const [linkIndex, url] = [a[6], a[7]];
  if (typeof linkIndex !== 'number' || typeof url !== 'string') return undefined;
  return { kind: 'click', method, copyId, at, ip, userAgent, linkIndex, url };
}

/**
 * One writer per journal: a second process writing the same store's journal would start a newer segment,
 * after which the first one's segment counts as sealed and could be deleted under it. The owner file names
 * the writing process; a live owner other than this process refuses the start.
 */
function claimOwnership(dir: string): void {
  const file = path.join(dir, 'owner');
  let owner: number | undefined;
  try {
    owner = Number(fs.readFileSync(file, 'utf8').trim()) || undefined;
  } catch {
    /* no owner yet */
  }
  if (owner && owner !== process.pid && alive(owner)) {
    throw new Error(`process ${owner} is writing the tracking event journal ${dir}: run one tracking process per SQLite store (or set MAILBEACON_EVENT_JOURNAL=off)`);
  }
  fs.writeFileSync(`${file}.${process.pid}`, `${process.pid}\n`);
  fs.renameSync(`${file}.${process.pid}`, file);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A reused pid after a reboot is some other program: only a Mailbeacon (node) process counts.
  try {
    return /node|mailbeacon/.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true;
  }
}

/** The writing end (the HTTP thread): appends batches to the newest segment, one write() per batch. */
export class JournalWriter {
  seq: number;
  /** End of the last complete write in the current segment. */
  offset = 0;
  private fd: number;

  constructor(readonly dir: string, private readonly segmentBytes = SEGMENT_BYTES) {
    fs.mkdirSync(dir, { recursive: true });
    claimOwnership(dir);
    // Always a fresh segment: every older one is sealed, so a torn tail left by a crash is recognised.
    this.seq = (listSegments(dir).at(-1) ?? 0) + 1;
    this.fd = this.open(this.seq);
  }

  private open(seq: number): number {
    return fs.openSync(path.join(this.dir, segName(seq)), 'wx');
  }

  get position(): Position {
    return { seq: this.seq, offset: this.offset };
  }

  /**
   * Appends `buf` (whole records) with one write(). On failure (disk full, short write) the segment is cut back
   * to where it was, so no partial record stays in front of later ones, and the error is thrown: none of the
   * batch's hits is in the journal.
   */
  append(buf: Buffer): Position {
    let n = 0;
    try {
      n = fs.writeSync(this.fd, buf, 0, buf.length, this.offset);
    } catch (e) {
      this.cutBack();
      throw e;
    }
    if (n !== buf.length) {
      this.cutBack();
      throw Object.assign(new Error(`short write to the event journal (${n} of ${buf.length} bytes)`), { code: 'ENOSPC' });
    }
    this.offset += n;
    if (this.offset >= this.segmentBytes) this.rotate();
    return this.position;
  }

  private cutBack() {
    try {
      fs.ftruncateSync(this.fd, this.offset);
    } catch {
      // Cannot cut back: leave this segment (its tail is then skipped as torn) and write a new one.
      try { this.rotate(); } catch { /* the next append tries again */ }
    }
  }

  private rotate() {
    // Close first: a descriptor number freed by a failure could be handed to the new file.
    try {
      fs.closeSync(this.fd);
    } catch {
      /* already unusable */
    }
    this.fd = -1;
    this.fd = this.open(this.seq + 1);
    this.seq++;
    this.offset = 0;
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

export interface StepResult {
  /** Whether the checkpoint moved (records ingested, a torn tail skipped or a sealed segment finished). */
  progressed: boolean;
  /** The checkpoint after the step. */
  position: Position;
  hits: number;
  /** Outcomes by route: pixel / click, recorded / unknown_copy. */
  pixelRecorded: number;
  pixelUnknown: number;
  clickRecorded: number;
  clickUnknown: number;
  /** Records skipped because they were cut short or unreadable. */
  torn: number;
}

export interface IngesterOptions {
  /** Most records per transaction: keeps the write lock short for other writers of the store. */
  maxHits?: number;
  onTorn?: (seq: number, offset: number, bytes: number) => void;
}

function parseCheckpoint(v: string | undefined): Position {
  const m = v ? /^(\d+):(\d+)$/.exec(v) : null;
  return m ? { seq: Number(m[1]), offset: Number(m[2]) } : { seq: 0, offset: 0 };
}

/** The reading end: moves records from the journal into the store, one bounded transaction per step(). */
export class JournalIngester {
  private buf = Buffer.allocUnsafe(1 << 20);
  private readonly maxHits: number;

  constructor(readonly dir: string, private readonly repo: TrackingRepo, private readonly writer: EventWriter, private readonly opts: IngesterOptions = {}) {
    this.maxHits = opts.maxHits ?? 256;
  }

  /** The checkpoint as stored. */
  checkpoint(): Position {
    return this.repo.runSync((ops) => parseCheckpoint(ops.getKv(CHECKPOINT_KEY)))!.value;
  }

  step(): StepResult {
    const r: StepResult = { progressed: false, position: { seq: 0, offset: 0 }, hits: 0, pixelRecorded: 0, pixelUnknown: 0, clickRecorded: 0, clickUnknown: 0, torn: 0 };
    let done: Parameters<EventWriter['afterCommit']>[0] | undefined;
    let stale: number[] = [];
    const tx = this.repo.runSync((ops) => {
      const cp = parseCheckpoint(ops.getKv(CHECKPOINT_KEY));
      const segs = listSegments(this.dir);
      stale = segs.filter((s) => s < cp.seq);
      let { seq, offset } = cp;
      if (!segs.includes(seq)) {
        const next = segs.find((s) => s > seq);
        if (next === undefined) {
          r.position = cp;
          return;
        }
        seq = next;
        offset = 0;
      }
      const sealed = segs.some((s) => s > seq);
      const file = path.join(this.dir, segName(seq));
      const fd = fs.openSync(file, 'r');
      let got: number;
      let size: number;
      try {
        got = fs.readSync(fd, this.buf, 0, this.buf.length, offset);
        size = fs.fstatSync(fd).size;
      } finally {
        fs.closeSync(fd);
      }
      const hits: TrackHit[] = [];
      let pos = 0;
      while (hits.length < this.maxHits && pos < got) {
        const nl = this.buf.indexOf(10, pos);
        if (nl < 0 || nl >= got) break;
        const hit = decodeHit(this.buf.toString('utf8', pos, nl));
        if (hit) hits.push(hit);
        else {
          r.torn++;
          this.opts.onTorn?.(seq, offset + pos, nl - pos);
        }
        pos = nl + 1;
      }
      let next: Position = { seq, offset: offset + pos };
      if (pos === 0 && got === this.buf.length) throw new Error(`event journal segment ${seq}: no record end within ${got} bytes at offset ${offset}`);
      if (pos === 0 || (sealed && offset + pos >= size)) {
        if (!sealed) {
          r.position = next;
          if (seq !== cp.seq || offset !== cp.offset) ops.setKv(CHECKPOINT_KEY, `${seq}:${offset}`);
          return;
        }
        // A sealed segment read to its end: what follows the last record end is a torn write.
        const tail = size - (offset + pos);
        if (tail > 0) {
          r.torn++;
          this.opts.onTorn?.(seq, offset + pos, tail);
        }
        stale.push(seq);
        next = { seq: segs.find((s) => s > seq)!, offset: 0 };
      }
      if (hits.length) {
        const res = this.writer.applySync(ops, hits);
        done = res;
        hits.forEach((h, i) => {
          const ok = res.outcomes[i] === 'recorded';
          if (h.kind === 'open') r[ok ? 'pixelRecorded' : 'pixelUnknown']++;
          else r[ok ? 'clickRecorded' : 'clickUnknown']++;
        });
        r.hits = hits.length;
      }
      ops.setKv(CHECKPOINT_KEY, `${next.seq}:${next.offset}`);
      r.position = next;
      r.progressed = true;
    });
    if (!tx) throw new Error('the event journal needs a SQLite store');
    if (done) this.writer.afterCommit(done);
    for (const s of stale) fs.rmSync(path.join(this.dir, segName(s)), { force: true });
    return r;
  }

  /** Steps until nothing is left to ingest; returns the totals. */
  drain(): StepResult {
    const total: StepResult = { progressed: false, position: { seq: 0, offset: 0 }, hits: 0, pixelRecorded: 0, pixelUnknown: 0, clickRecorded: 0, clickUnknown: 0, torn: 0 };
    for (;;) {
      const r = this.step();
      total.position = r.position;
      if (!r.progressed) return total;
      total.progressed = true;
      for (const k of ['hits', 'pixelRecorded', 'pixelUnknown', 'clickRecorded', 'clickUnknown', 'torn'] as const) total[k] += r[k];
    }
  }
}

// mailsplit's Splitter, driven synchronously. Its _transform hands every MIME node boundary to
// setImmediate() before it goes on with the chunk, so a small message costs several event-loop turns
// (about a third of the rewriter's time on a 2 KB message). The line logic itself (processLine,
// checkBoundary, MimeNode header parsing) is synchronous: this file keeps all of it and replaces only the
// driver loop, a line-for-line port of MessageSplitter._transform/_flush from mailsplit 5.4.6
// (https://github.com/zone-eu/mailsplit/blob/master/lib/message-splitter.js, MIT) with the setImmediate
// hops turned into a loop and the byte-by-byte LF search into Buffer.indexOf. The objects it produces
// are the library's own; test/rewrite/sync-splitter.test.ts checks they match the library's stream over
// the corpus and mutated messages.
import mailsplit, { type SplitterObject } from 'mailsplit';

/** The Splitter fields and methods the driver uses (all mailsplit's own). */
interface SplitterState {
  line: Buffer | false;
  hasFailed: boolean;
  push(obj: SplitterObject | null): boolean;
  processLine(line: Buffer | false, final: boolean, next: (err?: Error | null, data?: any, flush?: boolean) => void): void;
}

export type SyncSplitter = InstanceType<typeof mailsplit.Splitter> & SplitterState;

/** A Splitter whose objects go to `onObject` (its readable side is never used). */
export function createSyncSplitter(onObject: (obj: SplitterObject) => void, config: { ignoreEmbedded?: boolean; maxChildNodes?: number }): SyncSplitter {
  const s = new mailsplit.Splitter(config) as SyncSplitter;
  s.push = (obj) => {
    if (obj) onObject(obj);
    return true;
  };
  return s;
}

/** processLine answers through a callback, but always before it returns: take the answer as a value. */
function processLine(s: SplitterState, line: Buffer | false, final: boolean): { data: any; flush: boolean } {
  let answered = false;
  let out: { data: any; flush: boolean } = { data: undefined, flush: false };
  let error: Error | null | undefined;
  s.processLine(line, final, (err, data, flush) => {
    answered = true;
    error = err;
    out = { data, flush: !!flush };
  });
  if (!answered) throw new Error('the MIME splitter did not answer synchronously');
  if (error) {
    s.hasFailed = true;
    throw error;
  }
  return out;
}

/** MessageSplitter._transform without the setImmediate hops. Throws what the splitter would have passed on. */
export function splitSync(s: SyncSplitter, chunk: Buffer): void {
  let pos = 0;
  let i = 0;
  let group: any = { type: 'none' };
  let groupstart = s.line ? -s.line.length : 0;
  let groupend = 0;

  const checkTrailingLinebreak = (data: any) => {
    if (data.type === 'body' && data.node.parentNode && data.value && data.value.length) {
      if (data.value[data.value.length - 1] === 0x0a) {
        groupstart--;
        groupend--;
        pos--;
        if (data.value.length > 1 && data.value[data.value.length - 2] === 0x0d) {
          groupstart--;
          groupend--;
          pos--;
          if (groupstart < 0 && !s.line) {
            // store only <CR> as <LF> should be on the positive side
            s.line = Buffer.allocUnsafe(1);
            s.line[0] = 0x0d;
          }
          data.value = data.value.slice(0, data.value.length - 2);
        } else {
          data.value = data.value.slice(0, data.value.length - 1);
        }
      } else if (data.value[data.value.length - 1] === 0x0d) {
        groupstart--;
        groupend--;
        pos--;
        data.value = data.value.slice(0, data.value.length - 1);
      }
    }
  };

  const len = chunk.length;
  for (;;) {
    const lf = i < len ? chunk.indexOf(0x0a, i) : -1;
    if (lf < 0) {
      i = len;
      break;
    }
    i = lf;
    const start = Math.max(pos, 0);
    pos = ++i;
    const { data, flush } = processLine(s, chunk.slice(start, i), false);
    if (!data) continue;
    if (flush) {
      if (group && group.type !== 'none') {
        if (group.type === 'body' && groupend >= groupstart && group.node.parentNode) {
          // do not include the last line ending for body
          if (chunk[groupend - 1] === 0x0a) {
            groupend--;
            if (groupend >= groupstart && chunk[groupend - 1] === 0x0d) groupend--;
          }
        }
        if (groupstart !== groupend) {
          group.value = chunk.slice(groupstart, groupend);
          if (groupend < i) data.value = chunk.slice(groupend, i);
        }
        s.push(group);
        group = { type: 'none' };
        groupstart = groupend = i;
      }
      s.push(data);
      groupend = i;
      continue;
    }
    if (data.type === group.type) {
      // shift slice end position forward
      groupend = i;
      continue;
    }
    if (group.type === 'body' && groupend >= groupstart && group.node.parentNode) {
      // do not include the last line ending for body
      if (chunk[groupend - 1] === 0x0a) {
        groupend--;
        if (groupend >= groupstart && chunk[groupend - 1] === 0x0d) groupend--;
      }
    }
    if (group.type !== 'none' && group.type !== 'node') {
      // we have a previous data/body chunk to output
      if (groupstart !== groupend) {
        group.value = chunk.slice(groupstart, groupend);
        if (group.value && group.value.length) {
          s.push(group);
          group = { type: 'none' };
        }
      }
    }
    if (data.type === 'node') {
      s.push(data);
      groupstart = i;
      groupend = i;
    } else if (groupstart < 0) {
      groupstart = i;
      groupend = i;
      checkTrailingLinebreak(data);
      if (data.value && data.value.length) s.push(data);
    } else {
      // start new body/data chunk
      group = data;
      groupstart = groupend;
      groupend = i;
    }
  }

  // skip last linebreak for body
  if (pos >= groupstart + 1 && group.type === 'body' && group.node.parentNode) {
    // do not include the last line ending for body
    if (chunk[pos - 1] === 0x0a) {
      pos--;
      if (pos >= groupstart && chunk[pos - 1] === 0x0d) pos--;
    }
  }
  if (group.type !== 'none' && group.type !== 'node' && pos > groupstart) {
    // we have a leftover data/body chunk to push out
    group.value = chunk.slice(groupstart, pos);
    if (group.value && group.value.length) {
      s.push(group);
      group = { type: 'none' };
    }
  }
  if (pos < chunk.length) s.line = s.line ? Buffer.concat([s.line, chunk.slice(pos)]) : chunk.slice(pos);
}

/** MessageSplitter._flush, synchronously. */
export function finishSync(s: SyncSplitter): void {
  if (s.hasFailed) return;
  const { data } = processLine(s, false, true);
  if (data && (data.type === 'node' || (data.value && data.value.length))) s.push(data);
}

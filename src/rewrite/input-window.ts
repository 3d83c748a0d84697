// The raw input the rewriter has not written out yet. mailsplit's Splitter is meant to cut a message into
// pieces that concatenate back to the exact input, but on some malformed messages it drops or repeats
// bytes (header lines cut short by a boundary, for one). Every piece it emits is therefore checked against
// the input here; on the first mismatch the rewriter falls back to writing this raw input instead.
// Only the input from the last byte written onward is kept, so memory stays bounded by what is pending.

export class InputWindow {
  private chunks: Buffer[] = [];
  /** Absolute offset of chunks[0][0]. */
  private start = 0;
  /** Absolute offset up to which emitted pieces have been matched against the input. */
  verified = 0;
  private cursorChunk = 0;
  private cursorOffset = 0;
  /** Total input bytes seen. */
  total = 0;

  append(chunk: Buffer): void {
    if (!chunk.length) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /** True when `piece` is exactly the input at the verified offset (which then moves past it). */
  verify(piece: Buffer): boolean {
    let pos = 0;
    let ci = this.cursorChunk;
    let co = this.cursorOffset;
    while (pos < piece.length) {
      const chunk = this.chunks[ci];
      if (!chunk) return false;
      const n = Math.min(chunk.length - co, piece.length - pos);
      if (n > 0 && chunk.compare(piece, pos, pos + n, co, co + n) !== 0) return false;
      pos += n;
      co += n;
      if (co >= chunk.length) {
        ci++;
        co = 0;
      }
    }
    this.cursorChunk = ci;
    this.cursorOffset = co;
    this.verified += piece.length;
    return true;
  }

  /** Forgets input before absolute offset `upTo` (whole chunks only; never past the verified offset). */
  release(upTo: number): void {
    while (this.chunks.length && this.start + this.chunks[0].length <= Math.min(upTo, this.verified) && this.cursorChunk > 0) {
      this.start += this.chunks[0].length;
      this.chunks.shift();
      this.cursorChunk--;
    }
  }

  /** The kept input from absolute offset `from` to the end. */
  rest(from: number): Buffer {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, from - this.start));
  }
}

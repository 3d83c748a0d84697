// Applies insertions/replacements to a string by position: everything outside the edited ranges is
// copied unchanged, character for character (the rewriter never re-serializes HTML).

export interface Edit {
  /** Start (inclusive) and end (exclusive) of the replaced range; start === end inserts. */
  start: number;
  end: number;
  text: string;
}

/** Edits must not overlap; they may come in any order. */
export function splice(source: string, edits: readonly Edit[]): string {
  if (!edits.length) return source;
  const sorted = [...edits].sort((a, b) => a.start - b.start || a.end - b.end);
  const out: string[] = [];
  let pos = 0;
  for (const e of sorted) {
    if (e.start < pos || e.end < e.start || e.end > source.length) throw new Error('overlapping or out-of-range edit');
    out.push(source.slice(pos, e.start), e.text);
    pos = e.end;
  }
  out.push(source.slice(pos));
  return out.join('');
}

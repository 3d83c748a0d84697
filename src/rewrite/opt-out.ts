// The per-message opt-out header. `X-Mailbeacon-Track: no` turns all tracking off for the message,
// `opens=no` / `clicks=no` (comma, semicolon or space separated) turn off one kind. The header is always
// removed from the top-level header block, whatever it says, so it never leaks to the recipient.
// Removal works on the raw header bytes, so every other header stays byte-identical (folding, order,
// line endings, an mbox "From " line).

export const OPT_OUT_HEADER = 'X-Mailbeacon-Track';

/** Which kinds of tracking the message turned off (true = off). */
export interface OptOut {
  opens: boolean;
  clicks: boolean;
}

const NEGATIVE = new Set(['no', 'off', 'false', '0', 'none']);

/** Reads one header value. Unknown words are returned so the caller can warn about them. */
export function parseOptOut(value: string): { optOut: OptOut; unknown: string[] } {
  const optOut: OptOut = { opens: false, clicks: false };
  const unknown: string[] = [];
  const words = value
    .toLowerCase()
    .replace(/\s*=\s*/g, '=')
    .split(/[\s,;]+/)
    .filter(Boolean);
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq < 0) {
      if (NEGATIVE.has(word)) optOut.opens = optOut.clicks = true;
      else if (word !== 'yes') unknown.push(word);
      continue;
    }
    const key = word.slice(0, eq);
    const val = word.slice(eq + 1);
    if ((key === 'opens' || key === 'open') && NEGATIVE.has(val)) optOut.opens = true;
    else if ((key === 'clicks' || key === 'click') && NEGATIVE.has(val)) optOut.clicks = true;
    else if (!((key === 'opens' || key === 'open' || key === 'clicks' || key === 'click') && val === 'yes')) unknown.push(word);
  }
  return { optOut, unknown };
}

const NAME_RE = /^x-mailbeacon-track[ \t]*:/i;

/**
 * Removes every `X-Mailbeacon-Track` field (with its folded continuation lines) from a raw header
 * block and returns the block without it plus the unfolded values that were removed.
 */
export function stripOptOutHeader(block: Buffer): { block: Buffer; values: string[] } {
  // Fast path: nearly every message has no such header.
  const text = block.toString('latin1');
  if (!/x-mailbeacon-track/i.test(text)) return { block, values: [] };
  const lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const kept: string[] = [];
  const values: string[] = [];
  let removing = false;
  let inHeader = true;
  for (const line of lines) {
    if (!inHeader) {
      kept.push(line);
      continue;
    }
    if (line === '\n' || line === '\r\n') {
      inHeader = false;
      removing = false;
      kept.push(line);
      continue;
    }
    const continuation = line.startsWith(' ') || line.startsWith('\t');
    if (continuation && removing) {
      values[values.length - 1] += ` ${line.trim()}`;
      continue;
    }
    removing = false;
    if (!continuation && NAME_RE.test(line)) {
      removing = true;
      values.push(line.slice(line.indexOf(':') + 1).trim());
      continue;
    }
    kept.push(line);
  }
  if (!values.length) return { block, values };
  return { block: Buffer.from(kept.join(''), 'latin1'), values };
}

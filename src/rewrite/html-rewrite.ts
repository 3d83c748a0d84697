// Rewrites one decoded HTML document: the pixel is inserted and tracked hrefs get new values, by
// splicing at tokenizer positions. Every other character of the document is left as it was.
import { scanHtml, type HrefAttribute } from './html-scan.ts';
import { attributeValue, trackableUrl } from './links.ts';
import { pixelElement, pixelPosition, type PixelPlacement } from './pixel.ts';
import { splice, type Edit } from './splice.ts';

/** RFC 5322 §2.1.1: a line is at most 998 octets plus CRLF. */
export const MAX_LINE_OCTETS = 998;

export interface HtmlRewriteOptions {
  /** The pixel URL; undefined when opens are not tracked. */
  pixelUrl?: string;
  placement: PixelPlacement;
  /** Tracks http(s) links when true. */
  clicks: boolean;
  /** Index of the first tracked link of this document within the message. */
  firstLinkIndex: number;
  /** The tracking href for a link, or undefined when it can't be tracked (too long). */
  clickHref(url: string, linkIndex: number): string | undefined;
  /** Links already pointing here are left alone (a message rewritten twice). */
  clickPrefix: string;
  /**
   * Set for parts written without transfer encoding (7bit/8bit/binary): lines touched by an edit must
   * stay within MAX_LINE_OCTETS once encoded. A link that would overflow stays untracked; the pixel
   * then goes on a line of its own.
   */
  lineLimit?: { eol: string; octets(text: string): number };
  warn(message: string): void;
}

export interface HtmlRewrite {
  html: string;
  pixels: number;
  links: number;
}

interface Planned {
  href: HrefAttribute;
  url: string;
}

export function rewriteHtml(html: string, opts: HtmlRewriteOptions): HtmlRewrite {
  const marks = scanHtml(html);
  let planned: Planned[] = [];
  if (opts.clicks) {
    for (const href of marks.hrefs) {
      if (href.noTrack) continue;
      const url = trackableUrl(href.value);
      if (!url || url.startsWith(opts.clickPrefix)) continue;
      planned.push({ href, url });
    }
  }
  const pixelAt = opts.pixelUrl === undefined ? undefined : pixelPosition(html, marks, opts.placement);

  const build = (links: Planned[], wrapPixel: boolean) => {
    const edits: Array<Edit & { link?: Planned }> = [];
    const tracked: Planned[] = [];
    for (const link of links) {
      const target = opts.clickHref(link.url, opts.firstLinkIndex + tracked.length);
      if (target === undefined) {
        opts.warn(`link too long to track (${link.url.length} characters), left unchanged`);
        continue;
      }
      tracked.push(link);
      edits.push({ start: link.href.valueStart, end: link.href.valueEnd, text: attributeValue(target, link.href.quote), link });
    }
    if (pixelAt !== undefined) {
      const el = pixelElement(opts.pixelUrl!);
      edits.push({ start: pixelAt, end: pixelAt, text: wrapPixel ? `${opts.lineLimit!.eol}${el}${opts.lineLimit!.eol}` : el });
    }
    return { edits, tracked };
  };

  let { edits, tracked } = build(planned, false);
  if (opts.lineLimit && edits.length) {
    const starts = lineStarts(html, edits);
    const overflow = overflowingLines(html, edits, starts, opts.lineLimit.octets);
    if (overflow.size) {
      const dropped = new Set<Planned>();
      let wrapPixel = false;
      for (const e of edits) {
        if (!overflow.has(starts.get(e)!)) continue;
        if (e.link) dropped.add(e.link);
        else wrapPixel = true;
      }
      if (dropped.size) opts.warn(`${dropped.size} link(s) left untracked: their line would exceed ${MAX_LINE_OCTETS} octets in a part without transfer encoding`);
      planned = planned.filter((p) => !dropped.has(p));
      ({ edits, tracked } = build(planned, wrapPixel));
    }
  }
  return { html: splice(html, edits), pixels: pixelAt === undefined ? 0 : 1, links: tracked.length };
}

/** The start of the line each edit begins on, found in one forward pass (linear on long lines too). */
function lineStarts(text: string, edits: readonly Edit[]): Map<Edit, number> {
  const out = new Map<Edit, number>();
  let lineStart = 0;
  for (const e of [...edits].sort((a, b) => a.start - b.start)) {
    for (let nl = text.indexOf('\n', lineStart); nl >= 0 && nl < e.start; nl = text.indexOf('\n', lineStart)) lineStart = nl + 1;
    out.set(e, lineStart);
  }
  return out;
}

/** Start positions of the lines whose edited form would be longer than MAX_LINE_OCTETS. */
function overflowingLines(text: string, edits: readonly Edit[], starts: Map<Edit, number>, octets: (s: string) => number): Set<number> {
  const byLine = new Map<number, Edit[]>();
  for (const e of edits) {
    const start = starts.get(e)!;
    const list = byLine.get(start) ?? [];
    list.push(e);
    byLine.set(start, list);
  }
  const out = new Set<number>();
  for (const [start, list] of byLine) {
    let end = text.indexOf('\n', Math.max(...list.map((e) => e.end)));
    if (end < 0) end = text.length;
    if (end > start && text[end - 1] === '\r') end--;
    const line = splice(
      text.slice(start, end),
      list.map((e) => ({ start: e.start - start, end: e.end - start, text: e.text })),
    );
    if (octets(line) > MAX_LINE_OCTETS) out.add(start);
  }
  return out;
}

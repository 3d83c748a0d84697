// The open-tracking pixel: one 1×1 image per eligible HTML part, placed where it loads but does not
// change the layout.
import type { HtmlLandmarks } from './html-scan.ts';
import { attributeValue } from './links.ts';

export type PixelPlacement = 'top' | 'bottom' | 'auto';

/** Gmail clips messages above ~102 KB; past this much decoded HTML, `auto` puts the pixel at the top. */
export const AUTO_TOP_THRESHOLD = 100 * 1024;

export function pixelElement(url: string): string {
  return `<img src="${attributeValue(url, 'double')}" width="1" height="1" alt="" border="0" style="display:block;width:1px;height:1px;border:0;margin:0;padding:0" />`;
}

/**
 * Where the pixel goes in `html`:
 * - bottom: just before the real `</body>`, else before `</html>`, else at the end;
 * - top: right after `<body …>`, else after `</head>` / `<html …>` / the doctype, else at the start
 *   (after a byte-order mark);
 * - auto: top when the document is larger than AUTO_TOP_THRESHOLD bytes (UTF-8), bottom otherwise.
 */
export function pixelPosition(html: string, marks: HtmlLandmarks, placement: PixelPlacement): number {
  const where = placement === 'auto' ? (Buffer.byteLength(html, 'utf8') > AUTO_TOP_THRESHOLD ? 'top' : 'bottom') : placement;
  if (where === 'bottom') return marks.bodyCloseStart ?? marks.htmlCloseStart ?? html.length;
  if (marks.bodyOpenEnd !== undefined) return marks.bodyOpenEnd;
  const candidates = [marks.headCloseEnd, marks.htmlOpenEnd, marks.doctypeEnd].filter((n): n is number => n !== undefined);
  if (candidates.length) return Math.max(...candidates);
  return html.startsWith('\uFEFF') ? 1 : 0;
}

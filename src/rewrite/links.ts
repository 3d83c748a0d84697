// Which hrefs are tracked, and how a new href value is written back.

/**
 * The URL a browser would follow for an href value (character references already decoded), when it is
 * an http(s) link; undefined for mailto:, tel:, #fragment, javascript:, relative and other links.
 * Like the WHATWG URL parser: leading/trailing C0 controls and spaces are ignored, tabs and newlines
 * inside are removed. Nothing else is normalized, so the redirect goes exactly where the link pointed.
 */
export function trackableUrl(value: string): string | undefined {
  // Trimmed by hand: a regex anchored at the end backtracks quadratically over long runs of spaces.
  let start = 0;
  let end = value.length;
  while (start < end && value.charCodeAt(start) <= 0x20) start++;
  while (end > start && value.charCodeAt(end - 1) <= 0x20) end--;
  const url = value.slice(start, end).replace(/[\t\n\r]/g, '');
  return /^https?:\/\/[^/]/i.test(url) ? url : undefined;
}

/** An attribute value written for its quoting style; an unquoted value that can't stay bare gets double quotes. */
export function attributeValue(value: string, quote: 'double' | 'single' | 'unquoted'): string {
  const amp = value.replace(/&/g, '&amp;');
  if (quote === 'double') return amp.replace(/"/g, '&quot;');
  if (quote === 'single') return amp.replace(/'/g, '&#39;');
  return /^[^\t\n\f\r "'=<>`]+$/.test(amp) ? amp : `"${amp.replace(/"/g, '&quot;')}"`;
}

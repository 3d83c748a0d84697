// Turning a delivered message's HTML into a srcdoc for a sandboxed iframe (no scripts, no same-origin).
// Preview mode strips every remote image and stylesheet URL (and a CSP in the frame blocks any that slip
// through), so looking at a message never fetches its tracking pixel. Recipient mode keeps the images, so
// the pixel is fetched for real and counts as an open. The HTML is parsed by DOMParser (an inert document:
// nothing loads or runs there) and only ever rendered inside the sandbox.

const REMOTE = /^\s*(https?:)?\/\//i;
const CSS_REMOTE_URL = /url\(\s*(['"]?)\s*(https?:)?\/\/[^)]*\)/gi;

export function buildSrcdoc(html, { loadImages }) {
  const doc = new window.DOMParser().parseFromString(html, 'text/html');
  // Never needed for reading mail; scripts would only log "blocked by sandbox" errors.
  for (const el of doc.querySelectorAll('script, noscript, iframe, frame, frameset, object, embed, applet, base, meta[http-equiv], form')) el.remove();
  for (const el of doc.querySelectorAll('*')) {
    for (const a of [...el.attributes]) if (/^on/i.test(a.name)) el.removeAttribute(a.name);
  }
  for (const img of doc.querySelectorAll('img')) {
    const src = img.getAttribute('src') ?? '';
    img.removeAttribute('srcset');
    if (/^\s*cid:/i.test(src)) {
      img.setAttribute('data-cid', src);
      img.removeAttribute('src');
    } else if (!loadImages && REMOTE.test(src)) {
      img.setAttribute('data-blocked-src', src);
      img.removeAttribute('src');
      if (!img.getAttribute('alt')) img.setAttribute('alt', '[remote image blocked]');
    }
  }
  if (!loadImages) {
    for (const el of doc.querySelectorAll('[background]')) if (REMOTE.test(el.getAttribute('background') ?? '')) el.removeAttribute('background');
    for (const el of doc.querySelectorAll('[style]')) el.setAttribute('style', el.getAttribute('style').replace(CSS_REMOTE_URL, 'none'));
    for (const el of doc.querySelectorAll('style')) el.textContent = el.textContent.replace(CSS_REMOTE_URL, 'none');
    for (const el of doc.querySelectorAll('link')) el.remove();
    for (const el of doc.querySelectorAll('video, audio, source, picture source, input[type=image]')) el.remove();
  }
  const csp = loadImages
    ? "default-src 'none'; img-src * data:; style-src 'unsafe-inline'; font-src *"
    : "default-src 'none'; img-src data:; style-src 'unsafe-inline'";
  const metas = [['Content-Security-Policy', csp]].map(([k, v]) => {
    const m = doc.createElement('meta');
    m.setAttribute('http-equiv', k);
    m.setAttribute('content', v);
    return m;
  });
  const ref = doc.createElement('meta');
  ref.setAttribute('name', 'referrer');
  ref.setAttribute('content', 'no-referrer');
  const charset = doc.createElement('meta');
  charset.setAttribute('charset', 'utf-8');
  doc.head.prepend(charset, ...metas, ref);
  return `<!doctype html>\n${doc.documentElement.outerHTML}`;
}

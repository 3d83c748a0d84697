// Which MIME parts get a pixel and tracked links: text/html body parts, except attachments and
// anything inside a signed or encrypted subtree (RFC 1847 §2.1: changing a byte breaks the signature).
// text/plain, text/x-amp-html, application/pkcs7-mime and attached messages are never touched (the
// splitter treats an attached message/rfc822 as one opaque body, so nothing inside it is reached).
import type { MimeNode } from 'mailsplit';

const PROTECTED_CONTAINERS = new Set(['multipart/signed', 'multipart/encrypted', 'application/pkcs7-mime', 'application/x-pkcs7-mime', 'message/rfc822']);

export function isEligibleHtmlPart(node: MimeNode): boolean {
  if (node.contentType !== 'text/html' || node.multipart) return false;
  // Without a Content-Type header a part is text/plain (RFC 2045 §5.2), whatever mailsplit guesses.
  if (!node.headers.get('Content-Type').length) return false;
  if (node.disposition === 'attachment') return false;
  for (let p = node.parentNode; p; p = p.parentNode) {
    if (p.contentType && PROTECTED_CONTAINERS.has(p.contentType)) return false;
  }
  return true;
}

// Finds, with htmlparser2's tokenizer (positions only, nothing is re-serialized), what the rewriter
// needs in one decoded HTML document: the href of every link element, and the places a pixel can go.
// The tokenizer knows comments, <script>, <style>, <textarea>, <title>… so a `</body>` inside them is
// not mistaken for the real one. Outlook conditional comments (`<!--[if mso]> … <![endif]-->`) hide VML
// buttons with hrefs; their content is tokenized again so those links are found too.
import { Tokenizer } from 'htmlparser2';

export type QuoteStyle = 'double' | 'single' | 'unquoted';

export interface HrefAttribute {
  /** The element name, lowercase (a, area, v:roundrect…). */
  tag: string;
  /** Raw range of the attribute value in the document, without its quotes. */
  valueStart: number;
  valueEnd: number;
  quote: QuoteStyle;
  /** The value with character references decoded, as a browser reads it. */
  value: string;
  /** The element carries data-no-track. */
  noTrack: boolean;
}

export interface HtmlLandmarks {
  /** Link hrefs in document order (including those inside conditional comments). */
  hrefs: HrefAttribute[];
  /** Just after the `>` of the first `<body …>`. */
  bodyOpenEnd?: number;
  /** The `<` of the last real `</body>`. */
  bodyCloseStart?: number;
  /** Just after the last `</head>`. */
  headCloseEnd?: number;
  /** Just after the first `<html …>`. */
  htmlOpenEnd?: number;
  /** The `<` of the last `</html>`. */
  htmlCloseStart?: number;
  /** Just after a `<!DOCTYPE …>`. */
  doctypeEnd?: number;
}

/** Elements whose href is a link a reader follows (not <link>, <base>…). VML shapes (v:roundrect…) too. */
export function isLinkElement(tag: string): boolean {
  return tag === 'a' || tag === 'area' || tag.startsWith('v:');
}

const QUOTES: Record<number, QuoteStyle | undefined> = { 1: 'unquoted', 2: 'single', 3: 'double' };

export function scanHtml(html: string): HtmlLandmarks {
  const marks: HtmlLandmarks = { hrefs: [] };
  tokenize(html, 0, marks, true);
  return marks;
}

function tokenize(html: string, offset: number, marks: HtmlLandmarks, topLevel: boolean): void {
  let tag = '';
  let attrName = '';
  let attrNameEnd = 0;
  let attrValue = '';
  let href: HrefAttribute | undefined;
  let noTrack = false;

  const endTag = (gtIndex: number) => {
    if (href && isLinkElement(tag)) marks.hrefs.push({ ...href, noTrack });
    if (topLevel) {
      if (tag === 'body' && marks.bodyOpenEnd === undefined) marks.bodyOpenEnd = offset + gtIndex + 1;
      else if (tag === 'html' && marks.htmlOpenEnd === undefined) marks.htmlOpenEnd = offset + gtIndex + 1;
    }
    tag = '';
    href = undefined;
    noTrack = false;
  };

  const tokenizer = new Tokenizer(
    {},
    {
      onopentagname(start, end) {
        tag = html.slice(start, end).toLowerCase();
        href = undefined;
        noTrack = false;
      },
      onattribname(start, end) {
        // Only href values are collected (and only names that could matter are lowercased).
        const n = end - start;
        attrName = n === 4 || n === 13 ? html.slice(start, end).toLowerCase() : '';
        attrNameEnd = end;
        attrValue = '';
      },
      onattribdata(start, end) {
        if (attrName === 'href') attrValue += html.slice(start, end);
      },
      onattribentity(codepoint) {
        if (attrName === 'href') attrValue += String.fromCodePoint(codepoint);
      },
      onattribend(quote, endIndex) {
        if (attrName === 'data-no-track') noTrack = true;
        const style = QUOTES[quote];
        if (attrName !== 'href' || href || !style) return;
        const valueEnd = style === 'unquoted' ? endIndex : endIndex - 1;
        // The value starts after `=`, optional whitespace and the opening quote.
        let i = html.indexOf('=', attrNameEnd);
        if (i < 0 || i > valueEnd) return;
        i++;
        while (i < valueEnd && /[\t\n\f\r ]/.test(html[i])) i++;
        if (style !== 'unquoted') i++;
        if (i > valueEnd) return;
        href = { tag, valueStart: offset + i, valueEnd: offset + valueEnd, quote: style, value: attrValue, noTrack: false };
      },
      onopentagend(endIndex) {
        endTag(endIndex);
      },
      onselfclosingtag(endIndex) {
        endTag(endIndex);
      },
      onclosetag(start, end) {
        if (!topLevel || end - start !== 4) return;
        const name = html.slice(start, end).toLowerCase();
        if (name === 'body') marks.bodyCloseStart = offset + html.lastIndexOf('<', start);
        else if (name === 'html') marks.htmlCloseStart = offset + html.lastIndexOf('<', start);
        else if (name === 'head') {
          const gt = html.indexOf('>', end);
          marks.headCloseEnd = offset + (gt < 0 ? html.length : gt + 1);
        }
      },
      oncomment(start, end) {
        // Conditional-comment content is tokenized right away, so hrefs stay in document order.
        if (topLevel && /^\s*\[if\b/i.test(html.slice(start, Math.min(end, start + 16)))) tokenize(html.slice(start, end), offset + start, marks, false);
      },
      ondeclaration(_start, end) {
        if (topLevel && marks.doctypeEnd === undefined) {
          const gt = html.indexOf('>', end);
          marks.doctypeEnd = offset + (gt < 0 ? html.length : gt + 1);
        }
      },
      oncdata() {},
      onend() {},
      onprocessinginstruction() {},
      ontext() {},
      ontextentity() {},
    },
  );
  tokenizer.write(html);
  tokenizer.end();
}

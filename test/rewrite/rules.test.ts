// Crafted messages, one rule of the rewriter each (issue 3).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, COPY, HOST, PIXEL, PIXEL_SRC, click, clickAttr, count, decodeBody, htmlMessage, htmlParts, longestLine, readParts, rewrite, signer } from './helpers.ts';

const PAGE = (body: string) => `<!DOCTYPE html>\r\n<html><head><title>t</title></head>\r\n<body>\r\n${body}\r\n</body>\r\n</html>\r\n`;

async function htmlOut(input: Buffer, over = {}): Promise<{ html: string; r: Awaited<ReturnType<typeof rewrite>> }> {
  const r = await rewrite(input, over);
  const parts = await htmlParts(r.output);
  assert.equal(parts.length, 1);
  return { html: decodeBody(parts[0]), r };
}

describe('rewriter: pixel', () => {
  test('bottom (default): exactly one pixel just before the real </body>, the rest unchanged', async () => {
    const src = PAGE('<p>Hello</p>');
    const { html, r } = await htmlOut(htmlMessage(src));
    assert.equal(html, src.replace('\r\n</body>', `\r\n${PIXEL}</body>`));
    assert.equal(r.pixels, 1);
    assert.deepEqual(r.warnings, []);
  });

  test('a </body> inside a comment, <script>, <textarea>, <title> or an attribute is not the real one', async () => {
    const src = PAGE('<!-- </body> --><script>var s = "</body>";</script><textarea></body></textarea><p title="</body>">x</p>');
    const { html } = await htmlOut(htmlMessage(src));
    assert.equal(html, src.replace('\r\n</body>\r\n</html>', `\r\n${PIXEL}</body>\r\n</html>`));
    assert.equal(count(html, PIXEL), 1);
  });

  test('top: right after <body …>; without a body, after </head>; with nothing, at the start', async () => {
    const src = PAGE('<p>x</p>').replace('<body>', '<BODY class="a>b" style=x>');
    assert.equal((await htmlOut(htmlMessage(src), { pixel: 'top' })).html, src.replace('<BODY class="a>b" style=x>', `<BODY class="a>b" style=x>${PIXEL}`));
    const headOnly = '<html><head><title>t</title></head><p>x</p></html>';
    assert.equal((await htmlOut(htmlMessage(headOnly), { pixel: 'top' })).html, headOnly.replace('</head>', `</head>${PIXEL}`));
    assert.equal((await htmlOut(htmlMessage('<p>fragment</p>'), { pixel: 'top' })).html, `${PIXEL}<p>fragment</p>`);
  });

  test('without </body>: before </html>, else at the end', async () => {
    assert.equal((await htmlOut(htmlMessage('<html><p>x</p></html>'))).html, `<html><p>x</p>${PIXEL}</html>`);
    assert.equal((await htmlOut(htmlMessage('<p>fragment</p>'))).html, `<p>fragment</p>${PIXEL}`);
  });

  test('auto: top when the HTML is larger than ~100 KB (Gmail clips), bottom otherwise', async () => {
    const small = PAGE('<p>small</p>');
    assert.ok((await htmlOut(htmlMessage(small), { pixel: 'auto' })).html.includes(`${PIXEL}</body>`));
    const big = PAGE(`<p>${'x'.repeat(120 * 1024)}</p>`);
    const { html } = await htmlOut(htmlMessage(big, { cte: 'quoted-printable' }), { pixel: 'auto' });
    assert.ok(html.includes(`<body>${PIXEL}`));
    assert.equal(count(html, PIXEL), 1);
  });

  test('the pixel token is an open token for the copy, bound to the tracking host', async () => {
    const token = PIXEL_SRC.slice(`${BASE}/o/`.length, -'.gif'.length);
    assert.deepEqual(signer.verify(token, HOST), { kind: 'open', copyId: COPY });
    assert.equal(signer.verify(token, 'other.example.com'), undefined);
  });

  test('opens off: no pixel', async () => {
    const { html, r } = await htmlOut(htmlMessage(PAGE('<a href="https://example.test/">x</a>')), { opens: false });
    assert.equal(count(html, '<img'), 0);
    assert.equal(r.pixels, 0);
    assert.equal(r.links, 1);
  });
});

describe('rewriter: links', () => {
  test('http/https hrefs in every quoting style are tracked, in document order, and verify to the exact URL', async () => {
    const src = PAGE(`<a href="https://example.test/a?x=1&amp;y=2">a</a> <a href='http://example.test/b'>b</a> <A HREF=https://example.test/c>c</A> <area href = "https://example.test/d">`);
    const { html, r } = await htmlOut(htmlMessage(src));
    const expected = src
      .replace('"https://example.test/a?x=1&amp;y=2"', `"${clickAttr('https://example.test/a?x=1&y=2', 0)}"`)
      .replace(`'http://example.test/b'`, `'${click('http://example.test/b', 1)}'`)
      .replace('HREF=https://example.test/c>', `HREF=${click('https://example.test/c', 2)}>`)
      .replace('"https://example.test/d"', `"${click('https://example.test/d', 3)}"`)
      .replace('\r\n</body>', `\r\n${PIXEL}</body>`);
    assert.equal(html, expected);
    assert.equal(r.links, 4);
    const token = click('https://example.test/a?x=1&y=2', 0).slice(`${BASE}/c/`.length);
    assert.deepEqual(signer.verify(token, HOST), { kind: 'click', copyId: COPY, linkIndex: 0, url: 'https://example.test/a?x=1&y=2' });
  });

  test('untouched: mailto:, tel:, #fragment, javascript:, relative, other schemes, data-no-track, <link>, <base>', async () => {
    const body = [
      '<a href="mailto:x@example.test">m</a>',
      '<a href="tel:+123">t</a>',
      '<a href="#top">f</a>',
      '<a href="javascript:alert(1)">j</a>',
      '<a href="/relative">r</a>',
      '<a href="ftp://example.test/f">ftp</a>',
      '<a data-no-track href="https://example.test/no">n</a>',
      '<a href="https://example.test/no2" data-no-track="1">n2</a>',
      '<a href="  https://example.test/yes  ">y</a>',
    ].join('\r\n');
    const src = PAGE(body).replace('<title>t</title>', '<title>t</title><link rel="stylesheet" href="https://example.test/s.css"><base href="https://example.test/">');
    const { html, r } = await htmlOut(htmlMessage(src));
    assert.equal(r.links, 1);
    assert.equal(html, src.replace('"  https://example.test/yes  "', `"${click('https://example.test/yes', 0)}"`).replace('\r\n</body>', `\r\n${PIXEL}</body>`));
  });

  test('VML hrefs inside Outlook <!--[if mso]> comments are tracked; plain comments are not', async () => {
    const src = PAGE(
      '<!--[if mso]><v:roundrect xmlns:v="urn:schemas-microsoft-com:vml" href="https://example.test/vml" style="height:40px"><center>Go</center></v:roundrect><![endif]-->' +
        '<!--[if !mso]><!--><a href="https://example.test/html">Go</a><!--<![endif]-->' +
        '<!-- <a href="https://example.test/commented">old</a> -->',
    );
    const { html, r } = await htmlOut(htmlMessage(src));
    assert.equal(r.links, 2);
    assert.equal(
      html,
      src
        .replace('"https://example.test/vml"', `"${click('https://example.test/vml', 0)}"`)
        .replace('"https://example.test/html"', `"${click('https://example.test/html', 1)}"`)
        .replace('\r\n</body>', `\r\n${PIXEL}</body>`),
    );
  });

  test('clicks off (the default of the CLI): hrefs unchanged', async () => {
    const src = PAGE('<a href="https://example.test/">x</a>');
    const { html, r } = await htmlOut(htmlMessage(src), { clicks: false });
    assert.equal(r.links, 0);
    assert.equal(html, src.replace('\r\n</body>', `\r\n${PIXEL}</body>`));
  });

  test('an href written back is HTML-escaped for its quoting', async () => {
    // A tracking base with characters that need escaping in each quoting style.
    const base = "https://track.example.com/x?a=1&b='2'";
    const src = `<a href="https://example.test/1">1</a><a href='https://example.test/2'>2</a><a href=https://example.test/3>3</a>`;
    const { html } = await htmlOut(htmlMessage(src), { trackingBase: base, opens: false });
    assert.match(html, /^<a href="https:\/\/track\.example\.com\/x\?a=1&amp;b='2'\/c\/[\w-]+">1<\/a>/);
    assert.match(html, /<a href='https:\/\/track\.example\.com\/x\?a=1&amp;b=&#39;2&#39;\/c\/[\w-]+'>2<\/a>/);
    assert.match(html, /<a href="https:\/\/track\.example\.com\/x\?a=1&amp;b='2'\/c\/[\w-]+">3<\/a>$/);
  });

  test('link indexes continue across the HTML parts of one message; already tracked links are left alone', async () => {
    const msg = Buffer.from(
      [
        'Content-Type: multipart/mixed; boundary=X',
        '',
        '--X',
        'Content-Type: text/html',
        '',
        '<a href="https://example.test/1">1</a>',
        '--X',
        'Content-Type: text/html',
        '',
        `<a href="https://example.test/2">2</a><a href="${BASE}/c/already">t</a>`,
        '--X--',
        '',
      ].join('\r\n'),
    );
    const r = await rewrite(msg, { opens: false });
    const parts = await htmlParts(r.output);
    assert.equal(decodeBody(parts[0]), `<a href="${click('https://example.test/1', 0)}">1</a>`);
    assert.equal(decodeBody(parts[1]), `<a href="${click('https://example.test/2', 1)}">2</a><a href="${BASE}/c/already">t</a>`);
  });

  test('very long URLs: tracked in quoted-printable parts (lines ≤ 76); too long for an 8bit line → untracked with a warning; lines ≤ 998', async () => {
    const long = `https://example.test/${'p'.repeat(3000)}?q=${'v'.repeat(1000)}`;
    const src = PAGE(`<a href="${long}">long</a>`);
    const qp = await rewrite(htmlMessage(src, { cte: 'quoted-printable' }));
    const part = (await htmlParts(qp.output))[0];
    assert.equal(decodeBody(part), src.replace(long, click(long, 0)).replace('\r\n</body>', `\r\n${PIXEL}</body>`));
    assert.ok(longestLine(part.body) <= 76);
    const token = click(long, 0).slice(`${BASE}/c/`.length);
    assert.equal(signer.verify(token, HOST)?.url, long);

    const medium = `https://example.test/${'m'.repeat(800)}`;
    const eightIn = htmlMessage(PAGE(`<a href="${medium}">medium</a>`), { cte: '8bit' });
    assert.ok(longestLine(eightIn) <= 998);
    const eight = await rewrite(eightIn);
    assert.equal(eight.links, 0);
    assert.ok(eight.warnings.some((w) => /untracked/.test(w)));
    assert.ok(longestLine(eight.output) <= 998, 'no line longer than 998 octets');
    assert.equal(eight.pixels, 1);

    const huge = `https://example.test/${'h'.repeat(9000)}`;
    const q2 = await rewrite(htmlMessage(`<a href="${huge}">x</a>`, { cte: 'quoted-printable' }));
    assert.equal(q2.links, 0);
    assert.ok(q2.warnings.some((w) => /too long/.test(w)));
  });

  test('8bit part: a pixel that would overflow its line goes on a line of its own', async () => {
    const line = `<p>${'w'.repeat(950)}</p></body></html>`;
    const r = await rewrite(htmlMessage(line, { cte: '8bit' }));
    const part = (await htmlParts(r.output))[0];
    assert.ok(longestLine(r.output) <= 998);
    assert.equal(decodeBody(part), line.replace('</body>', `\r\n${PIXEL}\r\n</body>`));
  });
});

describe('rewriter: which parts', () => {
  const nested = (outer: string) =>
    Buffer.from(
      [
        'From: a@example.test',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="OUT"',
        '',
        '--OUT',
        'Content-Type: text/html; charset=utf-8',
        '',
        '<p>outer</p>',
        '--OUT',
        outer,
        '--OUT--',
        '',
      ].join('\r\n'),
    );

  for (const [name, outer] of [
    ['multipart/signed', 'Content-Type: multipart/signed; protocol="application/pgp-signature"; micalg=pgp-sha256; boundary="S"\r\n\r\n--S\r\nContent-Type: text/html\r\n\r\n<p>signed <a href="https://example.test/s">s</a></p>\r\n--S\r\nContent-Type: application/pgp-signature\r\n\r\nSIG\r\n--S--'],
    ['multipart/encrypted', 'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="E"\r\n\r\n--E\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n--E\r\nContent-Type: text/html\r\n\r\n<p>not really encrypted</p>\r\n--E--'],
    ['application/pkcs7-mime', 'Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\nContent-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHA6CAMIACAQAxggE=' ],
    ['attached message/rfc822', 'Content-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\nSubject: fwd\r\nContent-Type: text/html\r\n\r\n<p>forwarded <a href="https://example.test/f">f</a></p>'],
    ['inline message/rfc822', 'Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\nSubject: fwd\r\nContent-Type: text/html\r\n\r\n<p>forwarded <a href="https://example.test/f">f</a></p>'],
    ['Content-Disposition: attachment', 'Content-Type: text/html; charset=utf-8\r\nContent-Disposition: attachment; filename="page.html"\r\n\r\n<p>attached <a href="https://example.test/a">a</a></p>'],
    ['text/x-amp-html', 'Content-Type: text/x-amp-html; charset=utf-8\r\n\r\n<html amp4email><body><a href="https://example.test/amp">amp</a></body></html>'],
    ['text/plain', 'Content-Type: text/plain\r\n\r\n<a href="https://example.test/p">p</a></body>'],
    ['no Content-Type', 'Content-Disposition: inline\r\n\r\n<a href="https://example.test/p">p</a></body>'],
  ] as const) {
    test(`${name}: left byte-identical while the eligible sibling gets its pixel`, async () => {
      const input = nested(outer);
      const r = await rewrite(input);
      assert.equal(r.pixels, 1, 'only the outer text/html part');
      assert.equal(r.links, 0);
      const expected = Buffer.from(input.toString('latin1').replace('<p>outer</p>', `<p>outer</p>${PIXEL}`), 'latin1');
      assert.equal(r.output.toString('latin1'), expected.toString('latin1'));
    });
  }

  test('a message with nothing eligible comes out byte-identical', async () => {
    const input = Buffer.from('From: a@example.test\r\nSubject: plain\r\n\r\nJust text, https://example.test/\r\n</body>\r\n');
    const r = await rewrite(input);
    assert.ok(r.output.equals(input));
    assert.equal(r.pixels, 0);
  });

  test('a single-part text/html message (no multipart) is rewritten', async () => {
    const input = Buffer.from('From: a@example.test\r\nContent-Type: text/html\r\n\r\n<html><body><a href="https://example.test/">x</a></body></html>\r\n');
    const r = await rewrite(input);
    assert.equal(r.output.toString(), `From: a@example.test\r\nContent-Type: text/html\r\n\r\n<html><body><a href="${click('https://example.test/', 0)}">x</a>${PIXEL}</body></html>\r\n`);
  });

  test('other parts and all headers stay byte-identical', async () => {
    const input = htmlMessage(PAGE('<a href="https://example.test/">x</a>'), { cte: 'quoted-printable', extraHeaders: 'X-Folded: a\r\n\tb' });
    const r = await rewrite(input);
    const a = await readParts(input);
    const b = await readParts(r.output);
    assert.equal(a.length, b.length);
    for (let i = 0; i < a.length; i++) {
      assert.ok(a[i].header.equals(b[i].header), `header of part ${i}`);
      if (a[i].contentType !== 'text/html') assert.ok(a[i].body.equals(b[i].body), `body of part ${i}`);
    }
  });
});

describe('rewriter: encodings', () => {
  const src = PAGE('<p>Grüße — “quoted” ½ €</p><a href="https://example.test/ü?x=1&amp;y=2">link</a>');
  const expected = (s: string) => s.replace('"https://example.test/ü?x=1&amp;y=2"', `"${clickAttr('https://example.test/ü?x=1&y=2', 0)}"`).replace('\r\n</body>', `\r\n${PIXEL}</body>`);

  for (const cte of ['7bit', '8bit', 'quoted-printable', 'base64']) {
    test(`UTF-8 in ${cte}: decoded HTML unchanged except the edits; lines ≤ 76 (qp/base64) and ≤ 998`, async () => {
      const r = await rewrite(htmlMessage(src, { cte }));
      const part = (await htmlParts(r.output))[0];
      assert.equal(decodeBody(part), expected(src));
      assert.equal(part.node.encoding, cte);
      if (cte === 'quoted-printable' || cte === 'base64') assert.ok(longestLine(part.body) <= 76, `longest ${longestLine(part.body)}`);
      assert.ok(longestLine(r.output) <= 998);
    });
  }

  for (const charset of ['windows-1252', 'iso-8859-1', 'iso-8859-15']) {
    test(`${charset}: re-encoded in the same charset`, async () => {
      const text = PAGE('<p>“quoted” café</p><a href="https://example.test/">x</a>').replace(charset === 'windows-1252' ? '' : /[“”]/g, '"');
      const iconv = (await import('iconv-lite')).default;
      const bytes = iconv.encode(text, charset);
      const r = await rewrite(htmlMessage(bytes, { cte: 'quoted-printable', charset }));
      const part = (await htmlParts(r.output))[0];
      assert.equal(decodeBody(part), text.replace('"https://example.test/"', `"${click('https://example.test/', 0)}"`).replace('\r\n</body>', `\r\n${PIXEL}</body>`));
      assert.ok(!part.body.toString('latin1').includes('=C3'), 'not converted to UTF-8');
    });
  }

  test('ISO-8859-2 in 8bit', async () => {
    const iconv = (await import('iconv-lite')).default;
    const text = PAGE('<p>Zażółć gęślą jaźń</p><a href="https://example.test/">x</a>');
    const r = await rewrite(htmlMessage(iconv.encode(text, 'iso-8859-2'), { cte: '8bit', charset: 'iso-8859-2' }));
    const part = (await htmlParts(r.output))[0];
    assert.equal(iconv.decode(part.body, 'iso-8859-2'), text.replace('"https://example.test/"', `"${click('https://example.test/', 0)}"`).replace('\r\n</body>', `\r\n${PIXEL}</body>`));
  });

  test('ISO-2022-JP (7bit) keeps its charset and escape sequences', async () => {
    const Encoding = (await import('encoding-japanese')).default;
    const text = PAGE('<p>こんにちは世界</p><a href="https://example.test/jp">リンク</a>');
    const bytes = Buffer.from(Encoding.convert(Encoding.stringToCode(text), { to: 'JIS', from: 'UNICODE' }));
    const r = await rewrite(htmlMessage(bytes, { cte: '7bit', charset: 'ISO-2022-JP' }));
    assert.equal(r.pixels, 1, r.warnings.join());
    const part = (await htmlParts(r.output))[0];
    assert.ok(!part.body.some((b) => b > 0x7f), 'still 7bit');
    assert.equal(decodeBody(part), text.replace('"https://example.test/jp"', `"${click('https://example.test/jp', 0)}"`).replace('\r\n</body>', `\r\n${PIXEL}</body>`));
  });

  test('a UTF-8 byte-order mark is kept (base64); top placement goes after it', async () => {
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<p>x</p>')]);
    const r = await rewrite(htmlMessage(bom, { cte: 'base64' }), { pixel: 'top' });
    const part = (await htmlParts(r.output))[0];
    const bytes = Buffer.from(part.body.toString(), 'base64');
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    assert.equal(bytes.subarray(3).toString(), `${PIXEL}<p>x</p>`);
  });

  test('unknown charset, bytes that do not round-trip, malformed base64, unknown transfer encoding: unchanged with a warning', async () => {
    const cases: Array<[Buffer, RegExp]> = [
      [htmlMessage('<p>x</p>', { charset: 'x-no-such-charset' }), /unknown charset/],
      [htmlMessage(Buffer.from([0x3c, 0x70, 0x3e, 0xff, 0xfe, 0x3c, 0x2f, 0x70, 0x3e]), { cte: '8bit', charset: 'utf-8' }), /round-trip/],
      [Buffer.from(htmlMessage('<p>x</p>', { cte: 'base64' }).toString('latin1').replace('PHA+eDwvcD4=', 'PHA+e!!Dwv*cD4=')), /malformed base64/],
      [htmlMessage('<p>x</p>', { cte: 'x-uuencode' }), /Content-Transfer-Encoding/],
    ];
    for (const [input, why] of cases) {
      const r = await rewrite(input);
      assert.ok(r.output.equals(input), `unchanged (${why})`);
      assert.equal(r.pixels, 0);
      assert.ok(r.warnings.some((w) => why.test(w)), `${why}: ${r.warnings.join('; ')}`);
    }
  });

  test('LF-only input stays LF-only (qp soft breaks too)', async () => {
    const input = htmlMessage(PAGE(`<p>${'long line '.repeat(30)}</p><a href="https://example.test/">x</a>`), { cte: 'quoted-printable', eol: '\n' });
    assert.ok(!input.includes(0x0d));
    const r = await rewrite(input);
    assert.equal(r.pixels, 1);
    assert.equal(r.links, 1);
    assert.ok(!r.output.includes(0x0d), 'no CR in the output');
    const part = (await htmlParts(r.output))[0];
    assert.ok(decodeBody(part).includes(`${PIXEL}</body>`));
    assert.ok(longestLine(part.body) <= 76);
  });
});

describe('rewriter: X-Mailbeacon-Track opt-out header', () => {
  const src = PAGE('<a href="https://example.test/">x</a>');
  const withHeader = (h: string) => htmlMessage(src, { extraHeaders: h });
  const without = htmlMessage(src);

  for (const [value, opens, clicks] of [
    ['no', false, false],
    ['No', false, false],
    ['opens=no', false, true],
    ['clicks=no', true, false],
    ['opens=no, clicks=no', false, false],
    ['opens=no; clicks=no', false, false],
    ['clicks = no opens = no', false, false],
  ] as const) {
    test(`"${value}" → opens ${opens ? 'on' : 'off'}, clicks ${clicks ? 'on' : 'off'}; the header is removed`, async () => {
      const r = await rewrite(withHeader(`X-Mailbeacon-Track: ${value}`));
      const plain = await rewrite(without, { opens, clicks });
      assert.equal(r.output.toString('latin1'), plain.output.toString('latin1'));
      assert.deepEqual(r.optOut, { opens: !opens, clicks: !clicks });
      assert.ok(!/x-mailbeacon-track/i.test(r.output.toString('latin1')));
    });
  }

  test('removed even when tracking is off altogether, folded, any case, repeated; nothing else changes', async () => {
    const input = withHeader('x-mailbeacon-TRACK: opens=no,\r\n clicks=no\r\nX-Other: kept\r\nX-Mailbeacon-Track: no');
    const r = await rewrite(input, { opens: false, clicks: false });
    assert.equal(r.output.toString('latin1'), htmlMessage(src, { extraHeaders: 'X-Other: kept' }).toString('latin1'));
    assert.deepEqual(r.optOut, { opens: true, clicks: true });
  });

  test('LF-only headers: removed, the rest unchanged', async () => {
    const input = htmlMessage(src, { extraHeaders: 'X-Mailbeacon-Track: no', eol: '\n' });
    const r = await rewrite(input);
    assert.equal(r.output.toString('latin1'), htmlMessage(src, { eol: '\n' }).toString('latin1'));
  });

  test('an unknown value is ignored with a warning (and still removed)', async () => {
    const r = await rewrite(withHeader('X-Mailbeacon-Track: maybe'));
    assert.equal(r.pixels, 1);
    assert.ok(r.warnings.some((w) => w.includes('maybe')));
    assert.ok(!/x-mailbeacon-track/i.test(r.output.toString('latin1')));
  });

  test('only the top-level header counts (a part header is content)', async () => {
    const input = Buffer.from('Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nX-Mailbeacon-Track: no\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--B--\r\n');
    const r = await rewrite(input);
    assert.equal(r.pixels, 1);
    assert.ok(r.output.toString().includes('X-Mailbeacon-Track: no'));
  });
});

describe('rewriter: hostile input stays fast', () => {
  test('an href of 200 000 spaces, and 5 000 links on one 8bit line, take well under a second each', async () => {
    const spaces = `<a href="h${' '.repeat(200_000)}x">x</a>`;
    let t0 = performance.now();
    const a = await rewrite(htmlMessage(spaces, { cte: 'quoted-printable' }));
    assert.equal(a.pixels, 1);
    assert.ok(performance.now() - t0 < 3000, `${performance.now() - t0} ms`);
    const many = Array.from({ length: 5000 }, (_, i) => `<a href="https://example.test/${i}">${i}</a>`).join('');
    t0 = performance.now();
    const b = await rewrite(htmlMessage(many, { cte: '8bit' }));
    assert.ok(performance.now() - t0 < 5000, `${performance.now() - t0} ms`);
    assert.equal(b.links, 0, 'the one line would exceed 998 octets with any link rewritten');
    assert.deepEqual(b.warnings, ['5000 link(s) left untracked: their line would exceed 998 octets in a part without transfer encoding']);
    assert.ok(longestLine(b.output) > 998, 'the input line itself was already long');
  });
});

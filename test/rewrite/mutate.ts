// Random mutations of a message (bit flips, cuts, repeats, MIME-significant snippets, stray boundaries,
// truncation, LF-only stretches), for the fuzz and splitter-equivalence tests.
import { int } from './random.ts';

const SNIPPETS = ['\r\n', '\n', '\r', '--', '\r\n--', '</body>', '<body>', '<!--', '-->', '<!--[if mso]>', '<![endif]-->', '<a href="https://x.test/?a=1&amp;b=2">', '<a href=', '"', "'", '<script>', '</script>', '<textarea>', '=', '=\r\n', '=3D', '&amp;', '&#x', '\x00', '\xff\xfe', 'Content-Type: text/html; charset=utf-8\r\n\r\n', 'Content-Transfer-Encoding: base64\r\n', 'X-Mailbeacon-Track: no\r\n', ' ', '\t', '>', '<'];

export function mutate(input: Buffer, rand: () => number): Buffer {
  let buf = Buffer.from(input);
  const boundaries = [...buf.toString('latin1').matchAll(/boundary="?([^";\r\n]+)"?/gi)].map((m) => m[1]);
  const ops = int(rand, 1, 4);
  for (let k = 0; k < ops; k++) {
    const at = int(rand, 0, buf.length);
    switch (int(rand, 0, 6)) {
      case 0:
        for (let n = int(rand, 1, 5); n > 0 && buf.length; n--) buf[int(rand, 0, buf.length - 1)] = int(rand, 0, 255);
        break;
      case 1:
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(Math.min(buf.length, at + int(rand, 1, 200)))]);
        break;
      case 2: {
        const len = int(rand, 1, 300);
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at, at + len), buf.subarray(at)]);
        break;
      }
      case 3: {
        const s = SNIPPETS[int(rand, 0, SNIPPETS.length - 1)];
        buf = Buffer.concat([buf.subarray(0, at), Buffer.from(s, 'latin1'), buf.subarray(at)]);
        break;
      }
      case 4:
        if (boundaries.length) {
          const b = boundaries[int(rand, 0, boundaries.length - 1)];
          buf = Buffer.concat([buf.subarray(0, at), Buffer.from(`\r\n--${b}${rand() < 0.3 ? '--' : ''}\r\n`), buf.subarray(at)]);
        }
        break;
      case 5:
        buf = buf.subarray(0, at);
        break;
      case 6: {
        const end = Math.min(buf.length, at + int(rand, 10, 2000));
        buf = Buffer.concat([buf.subarray(0, at), Buffer.from(buf.subarray(at, end).toString('latin1').replace(/\r\n/g, '\n'), 'latin1'), buf.subarray(end)]);
        break;
      }
    }
  }
  return buf;
}

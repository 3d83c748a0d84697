// `mailbeacon rewrite`: the tracking rewriter as a filter, message on stdin, rewritten message on stdout
// (bytes in, bytes out). Warnings go to stderr; a message that can't be rewritten safely comes out
// unchanged and the exit code is still 0.
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { createRewriteStream, type PixelPlacement } from '../../rewrite/index.ts';
import { keyringFromSecret, TokenSigner } from '../../tracking/tokens.ts';
import type { Command } from '../command.ts';

const USAGE = 'usage: mailbeacon rewrite --secret S --tracking-url BASE --message-id ID [--clicks] [--no-opens] [--pixel top|bottom|auto] < in.eml > out.eml\n';

export const rewriteCommand: Command = {
  name: 'rewrite',
  summary: 'add the open pixel (and with --clicks tracked links) to a message: stdin → stdout',
  async run(args, io) {
    const { values } = parseArgs({
      args,
      options: {
        secret: { type: 'string' },
        'tracking-url': { type: 'string' },
        'message-id': { type: 'string' },
        clicks: { type: 'boolean', default: false },
        'no-opens': { type: 'boolean', default: false },
        pixel: { type: 'string', default: 'bottom' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      io.stdout.write(USAGE);
      return 0;
    }
    const problems: string[] = [];
    if (!values.secret) problems.push('--secret is required');
    const base = values['tracking-url'];
    let baseOk = false;
    try {
      baseOk = !!base && /^https?:$/.test(new URL(base).protocol);
    } catch {
      baseOk = false;
    }
    if (!baseOk) problems.push('--tracking-url must be an http(s) URL');
    const id = values['message-id'] ?? '';
    if (!id || Buffer.byteLength(id) > 255) problems.push('--message-id is required (1..255 bytes)');
    const pixel = values.pixel as PixelPlacement;
    if (!['top', 'bottom', 'auto'].includes(pixel)) problems.push('--pixel must be top, bottom or auto');
    if (problems.length) {
      io.stderr.write(`mailbeacon rewrite: ${problems.join('; ')}\n${USAGE}`);
      return 2;
    }
    const stream = createRewriteStream({
      signer: new TokenSigner(keyringFromSecret(values.secret!, [1])),
      trackingBase: base!,
      copyId: id,
      opens: !values['no-opens'],
      clicks: values.clicks,
      pixel,
      onWarning: (m) => io.stderr.write(`mailbeacon rewrite: warning: ${m}\n`),
    });
    await pipeline(io.stdin, stream, async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        if (!io.stdout.write(chunk)) await once(io.stdout, 'drain');
      }
    });
    return 0;
  },
};

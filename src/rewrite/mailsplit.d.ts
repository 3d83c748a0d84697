// The parts of mailsplit (no bundled types) the rewriter uses.
declare module 'mailsplit' {
  import { Transform } from 'node:stream';

  export interface MimeNodeHeaders {
    /** The raw header block as read (Buffer), until something changes it. */
    headers: Buffer | string | false;
    get(key: string): string[];
    getFirst(key: string): string;
  }

  export interface MimeNode {
    type: 'node';
    root: boolean;
    parentNode: MimeNode | false;
    headers: MimeNodeHeaders;
    _headersLines: Buffer[];
    contentType: string | false;
    charset: string | false;
    encoding: string;
    disposition: string | false;
    multipart: string | false;
    getHeaders(): Buffer;
  }

  export interface SplitterChunk {
    type: 'body' | 'data';
    node: MimeNode;
    value: Buffer;
  }

  export type SplitterObject = MimeNode | SplitterChunk;

  export class Splitter extends Transform {
    constructor(config?: { ignoreEmbedded?: boolean; maxHeadSize?: number; maxChildNodes?: number });
  }

  export class Joiner extends Transform {
    constructor();
  }
}

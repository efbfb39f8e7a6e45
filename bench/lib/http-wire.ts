// Just enough HTTP/1.1 for the load generator (client-worker.ts): a keep-alive POST as bytes, and a
// reader that splits a response stream into (status, body) by Content-Length. Raw bytes on a
// socket cost the client a fraction of what fetch (undici, web streams) does, so on a 2-core
// machine the server, not the client, sets the rate. Only what Keyport's server sends is read:
// Content-Length bodies (no chunked encoding — the reader refuses it rather than guess).

/** A POST of a JSON body on a kept-alive connection. */
export function postJsonRequest(host: string, port: number, path: string, json: string): Buffer {
  const body = Buffer.from(json, 'utf8');
  const head =
    `POST ${path} HTTP/1.1\r\nhost: ${host}:${port}\r\ncontent-type: application/json\r\n` +
    `accept: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

export interface HttpResponse {
  status: number;
  body: Buffer;
}

const HEADER_END = Buffer.from('\r\n\r\n', 'latin1');

/** Splits a response byte stream into responses; feed() calls `each` once per complete response. */
export class ResponseReader {
  #buf: Buffer = Buffer.alloc(0);

  feed(chunk: Buffer, each: (r: HttpResponse) => void): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    for (;;) {
      const end = this.#buf.indexOf(HEADER_END);
      if (end < 0) return;
      const head = this.#buf.subarray(0, end).toString('latin1');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? NaN);
      if (!Number.isInteger(status)) throw new Error(`not an HTTP/1.1 response: ${JSON.stringify(head.slice(0, 40))}`);
      if (/\r\ntransfer-encoding:/i.test(head)) throw new Error('chunked response: not supported by this reader');
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      const start = end + HEADER_END.length;
      if (this.#buf.length < start + length) return;
      const body = this.#buf.subarray(start, start + length);
      this.#buf = this.#buf.subarray(start + length);
      each({ status, body });
    }
  }
}

// Raw HTTP over a socket: the request goes out byte for byte (no URL parser normalises
// `%2e%2e`, no client fixes a Host header), and the answer is read until the server closes.
import { connect } from 'node:net';

export interface RawReply {
  /** 0 when the server closed without a status line. */
  status: number;
  text: string;
}

export function rawRequest(port: number, request: string): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let text = '';
    sock.setEncoding('latin1');
    sock.on('connect', () => sock.write(request.includes('Connection:') ? request : withClose(request)));
    sock.on('data', (d: string) => (text += d));
    sock.on('error', reject);
    sock.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text }));
  });
}

/** Ask the server to close after answering, so 'close' marks the end of the reply. */
function withClose(request: string): string {
  const end = request.indexOf('\r\n\r\n');
  return end < 0 ? request : `${request.slice(0, end)}\r\nConnection: close${request.slice(end)}`;
}

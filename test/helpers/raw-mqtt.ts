// Hand-built MQTT bytes over raw sockets (TCP, TLS, WebSocket) for adversarial tests: what a
// well-behaved client library would never send. Every wait is on an event.
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import mqttPacket from 'mqtt-packet';
import WebSocket from 'ws';
import { within } from './mqtt-clients.ts';

export type RawTransport = 'tcp' | 'tls' | 'ws';

export interface RawConnection {
  write(bytes: Buffer): void;
  /** Everything received so far, parsed (CONNACK, SUBACK, PUBACK…). */
  readonly received: Array<{ cmd: string; [k: string]: unknown }>;
  /** Resolves with the first received packet satisfying `pred` (rejects if the socket closes first). */
  next(pred: (p: { cmd: string }) => boolean, ms?: number): Promise<{ cmd: string; [k: string]: unknown }>;
  /** Resolves once the server closed the connection. */
  readonly closed: Promise<void>;
  isClosed(): boolean;
  destroy(): void;
  /** Raw transport socket, to pause reading (slow-consumer tests). */
  pause(): void;
}

export function rawConnect(transport: RawTransport, port: number): Promise<RawConnection> {
  const received: RawConnection['received'] = [];
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const waiters = new Set<() => void>();
  parser.on('packet', (p) => {
    received.push(p as unknown as RawConnection['received'][number]);
    for (const w of waiters) w();
  });
  parser.on('error', () => {});
  let isClosed = false;
  let onClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => (onClosed = resolve));
  const markClosed = (): void => {
    isClosed = true;
    onClosed();
    for (const w of waiters) w();
  };
  const base = {
    received,
    closed,
    isClosed: () => isClosed,
    next(pred: (p: { cmd: string }) => boolean, ms = 5_000) {
      return within(
        new Promise<RawConnection['received'][number]>((resolve, reject) => {
          const check = (): void => {
            const hit = received.find(pred);
            if (hit) {
              waiters.delete(check);
              resolve(hit);
            } else if (isClosed) {
              waiters.delete(check);
              reject(
                new Error(`connection closed; received only ${received.map((r) => r.cmd).join(', ') || 'nothing'}`),
              );
            }
          };
          waiters.add(check);
          check();
        }),
        ms, // a reply on loopback; generous for a loaded machine
        'a packet from the broker',
      );
    },
  };
  if (transport === 'ws') {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/mqtt`, 'mqtt');
    ws.on('message', (data: Buffer) => parser.parse(data));
    ws.on('close', markClosed);
    ws.on('error', () => {});
    return new Promise((resolve, reject) => {
      ws.once('open', () =>
        resolve({
          ...base,
          write: (b) => ws.send(b),
          destroy: () => ws.terminate(),
          pause: () => (ws as unknown as { _socket: { pause(): void } })._socket.pause(),
        }),
      );
      ws.once('error', reject);
    });
  }
  const sock =
    transport === 'tls'
      ? tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false })
      : netConnect({ host: '127.0.0.1', port });
  sock.on('data', (d: Buffer) => parser.parse(d));
  sock.on('close', markClosed);
  sock.on('error', () => {}); // EPIPE/ECONNRESET once the broker hangs up are the point
  return new Promise((resolve, reject) => {
    sock.once(transport === 'tls' ? 'secureConnect' : 'connect', () =>
      resolve({
        ...base,
        write: (b) => {
          if (!sock.destroyed) sock.write(b);
        },
        destroy: () => sock.destroy(),
        pause: () => {
          sock.removeAllListeners('data');
          sock.pause();
        },
      }),
    );
    sock.once('error', reject);
  });
}

// ---- bytes -----------------------------------------------------------------------------------

export const gen = (p: object): Buffer => mqttPacket.generate(p as mqttPacket.Packet);

export function connectPacket(clientId: string, username: string, password: string, extra: object = {}): Buffer {
  return gen({
    cmd: 'connect',
    protocolVersion: 4,
    clean: true,
    keepalive: 60,
    clientId,
    username,
    password,
    ...extra,
  });
}

function str(bytes: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

export function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

const frame = (first: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([first]), varint(body.length), body]);

/** `prefix` + raw bytes, e.g. rawTopic('tv/', 0xc3, 0x28). */
export const rawTopic = (prefix: string, ...bytes: number[]): Buffer =>
  Buffer.concat([Buffer.from(prefix), Buffer.from(bytes)]);

/** PUBLISH with raw topic bytes; QoS 1 (packet id 7) so a PUBACK would show it was accepted. */
export const rawPublish = (topic: Buffer, payload = Buffer.from('x')): Buffer =>
  frame(0x32, Buffer.concat([str(topic), Buffer.from([0, 7]), payload]));

export const rawSubscribe = (...filters: Buffer[]): Buffer =>
  frame(0x82, Buffer.concat([Buffer.from([0, 9]), ...filters.map((f) => Buffer.concat([str(f), Buffer.from([1])]))]));

export const rawUnsubscribe = (...filters: Buffer[]): Buffer =>
  frame(0xa2, Buffer.concat([Buffer.from([0, 10]), ...filters.map(str)]));

/** CONNECT with a will whose topic has raw bytes. */
export function connectWithRawWill(clientId: string, username: string, password: string, willTopic: Buffer): Buffer {
  const flags = 0x80 | 0x40 | 0x04 | 0x02; // username, password, will, clean session
  return frame(
    0x10,
    Buffer.concat([
      str(Buffer.from('MQTT')),
      Buffer.from([4, flags, 0, 60]),
      str(Buffer.from(clientId)),
      str(willTopic),
      str(Buffer.from('gone')),
      str(Buffer.from(username)),
      str(Buffer.from(password)),
    ]),
  );
}

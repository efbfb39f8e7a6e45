// A minimal MQTT 3.1.1 wire codec for load generation: CONNECT, SUBSCRIBE, PUBLISH, PUBACK,
// DISCONNECT out; CONNACK, SUBACK, PUBLISH, PUBACK in. mqtt.js costs the load generator more CPU
// per connect and per message than aedes spends serving it, so with mqtt.js the client process,
// not the broker, would set the pace. Raw packets keep the broker the bottleneck.

function remainingLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

function str(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

function packet(first: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([first]), remainingLength(body.length), body]);
}

export interface ConnectFields {
  clientId: string;
  username?: string;
  password?: string;
  keepalive?: number;
  clean?: boolean;
}

export function connectPacket(f: ConnectFields): Buffer {
  let flags = f.clean === false ? 0 : 0x02;
  if (f.username !== undefined) flags |= 0x80;
  if (f.password !== undefined) flags |= 0x40;
  const ka = Buffer.alloc(2);
  ka.writeUInt16BE(f.keepalive ?? 60);
  const parts = [str('MQTT'), Buffer.from([4, flags]), ka, str(f.clientId)];
  if (f.username !== undefined) parts.push(str(f.username));
  if (f.password !== undefined) parts.push(str(f.password));
  return packet(0x10, Buffer.concat(parts));
}

export function subscribePacket(id: number, filter: string, qos: 0 | 1): Buffer {
  const pid = Buffer.alloc(2);
  pid.writeUInt16BE(id);
  return packet(0x82, Buffer.concat([pid, str(filter), Buffer.from([qos])]));
}

/** A PUBLISH; for QoS 1 the packet id sits at `idOffset` so callers can rewrite it in place. */
export function publishPacket(topic: string, payload: Buffer, qos: 0 | 1, id = 1): { bytes: Buffer; idOffset: number } {
  const t = str(topic);
  const parts = [t];
  if (qos === 1) {
    const pid = Buffer.alloc(2);
    pid.writeUInt16BE(id);
    parts.push(pid);
  }
  parts.push(payload);
  const body = Buffer.concat(parts);
  const head = Buffer.concat([Buffer.from([0x30 | (qos << 1)]), remainingLength(body.length)]);
  return { bytes: Buffer.concat([head, body]), idOffset: head.length + t.length };
}

export function pubackPacket(id: number): Buffer {
  return Buffer.from([0x40, 0x02, (id >> 8) & 0xff, id & 0xff]);
}

export const DISCONNECT = Buffer.from([0xe0, 0x00]);

export interface Packet {
  type: number;
  flags: number;
  body: Buffer;
}

/** Splits a byte stream into packets; feed() every chunk, get the complete packets back. */
export class PacketReader {
  #buf: Buffer = Buffer.alloc(0);

  feed(chunk: Buffer, onPacket: (p: Packet) => void): void {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    let off = 0;
    const buf = this.#buf;
    for (;;) {
      if (buf.length - off < 2) break;
      let len = 0;
      let mul = 1;
      let i = off + 1;
      let complete = false;
      for (; i < buf.length && i < off + 5; i++) {
        const b = buf[i] as number;
        len += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) {
          complete = true;
          i++;
          break;
        }
      }
      if (!complete || buf.length - i < len) break;
      const first = buf[off] as number;
      onPacket({ type: first >> 4, flags: first & 0x0f, body: buf.subarray(i, i + len) });
      off = i + len;
    }
    this.#buf = off === buf.length ? Buffer.alloc(0) : buf.subarray(off);
  }
}

export const TYPE = { CONNACK: 2, PUBLISH: 3, PUBACK: 4, SUBACK: 9 } as const;

/** Packet id of an incoming QoS 1 PUBLISH body. */
export function publishId(body: Buffer): number {
  const topicLen = body.readUInt16BE(0);
  return body.readUInt16BE(2 + topicLen);
}

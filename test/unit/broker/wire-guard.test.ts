// The framer on hand-built packets, fed whole and one byte at a time (every read boundary).
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { WireFramer, type WireViolation } from '../../../src-main/broker/wire-guard.ts';
import { describeBadUtf8, formatUtf8Problem } from '../../../src-main/broker/wire-utf8.ts';

const caps = { maxPacketBeforeConnect: 64 * 1024, maxPacket: 256 * 1024 };

function str(bytes: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(bytes.length);
  return Buffer.concat([len, bytes]);
}
function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}
const packet = (first: number, body: Buffer): Buffer =>
  Buffer.concat([Buffer.from([first]), varint(body.length), body]);
const topic = (...b: number[]): Buffer => Buffer.concat([Buffer.from('tv/'), Buffer.from(b)]);
export const publish = (t: Buffer, payload = Buffer.from('x')): Buffer =>
  packet(0x30, Buffer.concat([str(t), payload]));
export const subscribe = (...filters: Buffer[]): Buffer =>
  packet(0x82, Buffer.concat([Buffer.from([0, 1]), ...filters.map((f) => Buffer.concat([str(f), Buffer.from([1])]))]));
const unsubscribe = (...filters: Buffer[]): Buffer =>
  packet(0xa2, Buffer.concat([Buffer.from([0, 2]), ...filters.map(str)]));
const connectWithWill = (willTopic: Buffer): Buffer =>
  packet(
    0x10,
    Buffer.concat([
      str(Buffer.from('MQTT')),
      Buffer.from([4, 0x06, 0, 60]),
      str(Buffer.from('dev')),
      str(willTopic),
      str(Buffer.from('bye')),
    ]),
  );

/** How many packets a real mqtt-packet parser emits from `bytes` (what aedes would handle). */
function parsedCount(chunks: Buffer[]): number {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  let n = 0;
  parser.on('packet', () => n++);
  parser.on('error', () => {});
  for (const c of chunks) parser.parse(c);
  return n;
}

/**
 * Feeds `bytes` whole and in small reads; both must find the same violation, and the parser must
 * get the same complete packets either way (never the bad one). Returns [bytes passed whole,
 * violation].
 */
function run(bytes: Buffer, loggedIn = true): [number, WireViolation | null] {
  const whole = new WireFramer(caps, () => loggedIn);
  const passed = whole.feed(bytes);
  const split = new WireFramer(caps, () => loggedIn);
  const passedChunks: Buffer[] = [];
  // One byte at a time for small inputs (every boundary); 1,013-byte reads for large ones.
  const step = bytes.length < 5_000 ? 1 : 1_013;
  for (let i = 0; i < bytes.length; i += step) {
    const chunk = bytes.subarray(i, i + step);
    const ok = split.feed(chunk);
    if (ok > 0) passedChunks.push(chunk.subarray(0, ok));
    if (ok < chunk.length) break;
  }
  expect(split.violation).toEqual(whole.violation);
  expect(parsedCount(passedChunks)).toBe(parsedCount([bytes.subarray(0, passed)]));
  return [passed, whole.violation];
}

describe('UTF-8 of topic names and filters [MQTT-1.5.3-1], [MQTT-1.5.3-2]', () => {
  it.each([
    ['C3 28', [0xc3, 0x28], 'C3 28 at byte 3: invalid continuation byte'],
    ['CESU-8 surrogate', [0xed, 0xa0, 0x80], 'ED A0 80 at byte 3: UTF-16 surrogate'],
    ['overlong /', [0xc0, 0xaf], 'C0 AF at byte 3: overlong encoding of U+002F'],
    ['FF FE', [0xff, 0xfe], 'FF at byte 3: byte never used in UTF-8'],
    ['U+0000', [0x00], '00 at byte 3: null character U+0000'],
    ['above U+10FFFF', [0xf4, 0x90, 0x80, 0x80], 'F4 90 80 80 at byte 3: code point above U+10FFFF'],
    ['truncated', [0xe2, 0x82], 'E2 82 at byte 3: truncated 3-byte sequence'],
    ['overlong E0', [0xe0, 0x80, 0xaf], 'E0 80 AF at byte 3: overlong encoding'],
  ])('PUBLISH topic with %s is refused naming the bytes', (_n, bad, text) => {
    const good = publish(Buffer.from('tv/ok'));
    const [passed, v] = run(Buffer.concat([good, publish(topic(...bad))]));
    expect(passed).toBe(good.length); // the good packet before it still goes through
    expect(v).toMatchObject({ kind: 'utf8', packet: 'PUBLISH', field: 'topic name' });
    if (v?.kind !== 'utf8') throw new Error('unreachable');
    expect(formatUtf8Problem(v.problem)).toContain(text);
    expect(v.printable.startsWith('tv/\\x')).toBe(true);
  });

  it('accepts well-formed multi-byte topics (2, 3 and 4 bytes) and skips payload bytes', () => {
    const t = Buffer.from('tv/é/€/😀/ü');
    const bytes = Buffer.concat([publish(t, Buffer.from([0xff, 0xfe, 0xc3, 0x28])), subscribe(t), unsubscribe(t)]);
    expect(run(bytes)).toEqual([bytes.length, null]);
  });

  it('checks every SUBSCRIBE and UNSUBSCRIBE filter, and the CONNECT will topic', () => {
    expect(run(subscribe(Buffer.from('a/#'), topic(0xff, 0xfe)))[1]).toMatchObject({
      packet: 'SUBSCRIBE',
      field: 'topic filter',
      problem: { offset: 3, bytes: 'FF' },
    });
    expect(run(unsubscribe(topic(0xc3, 0x28)))[1]).toMatchObject({ packet: 'UNSUBSCRIBE' });
    expect(run(connectWithWill(topic(0xed, 0xa0, 0x80)), false)[1]).toMatchObject({
      packet: 'CONNECT',
      field: 'will topic',
    });
    expect(run(connectWithWill(Buffer.from('tv/will')), false)[1]).toBeNull();
  });

  it('agrees with what mqtt-packet generates for real packets', () => {
    const gen = (p: object): Buffer => mqttPacket.generate(p as mqttPacket.Packet);
    const bytes = Buffer.concat([
      gen({ cmd: 'connect', clientId: 'd', protocolVersion: 4, will: { topic: 'w/é', payload: Buffer.from('x') } }),
      gen({ cmd: 'publish', topic: 'a/ü', payload: Buffer.alloc(70_000), qos: 1, messageId: 3 }),
      gen({
        cmd: 'subscribe',
        messageId: 4,
        subscriptions: [
          { topic: 'a/+', qos: 1 },
          { topic: '€/#', qos: 0 },
        ],
      }),
      gen({ cmd: 'pingreq' }),
    ]);
    expect(run(bytes)).toEqual([bytes.length, null]);
  });
});

describe('packet-size caps, from the fixed header alone', () => {
  it('refuses a CONNECT claiming 256 MB before any body byte, with the pre-CONNECT cap', () => {
    const f = new WireFramer(caps, () => false);
    expect(f.feed(Buffer.concat([Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]), Buffer.alloc(1000)]))).toBe(0);
    expect(f.violation).toEqual({
      kind: 'size',
      packet: 'CONNECT',
      claimed: 268_435_455,
      malformedLength: false,
      cap: 64 * 1024,
      limit: 'connect',
      beforeConnect: true,
    });
    expect(f.feed(Buffer.alloc(10))).toBe(0); // nothing after it passes
  });

  it('uses the larger cap once logged in, and refuses a remaining length longer than 4 bytes', () => {
    const big = publish(Buffer.from('a/b'), Buffer.alloc(100_000));
    expect(run(big, true)).toEqual([big.length, null]);
    // As the first packet (where only a CONNECT belongs) the pre-login cap applies…
    expect(run(big, false)[1]).toMatchObject({ kind: 'size', cap: 65_536, limit: 'connect' });
    // …behind a CONNECT (pipelined, as mosquitto_pub does) the packet limit, within a budget.
    const connect = mqttPacket.generate({ cmd: 'connect', clientId: 'd', protocolVersion: 4 } as mqttPacket.Packet);
    expect(run(Buffer.concat([connect, big]), false)).toEqual([connect.length + big.length, null]);
    const budget = run(Buffer.concat([connect, big, big, big, big]), false)[1];
    expect(budget).toMatchObject({ kind: 'size', limit: 'pre-login', beforeConnect: true });
    const over = Buffer.from([0x30, ...varint(256 * 1024 + 1)]);
    expect(run(over)[1]).toMatchObject({ kind: 'size', packet: 'PUBLISH', claimed: 262_145, cap: 262_144 });
    expect(run(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))[1]).toMatchObject({ malformedLength: true });
  });
});

describe('describeBadUtf8', () => {
  it('is null for well-formed text', () => {
    expect(describeBadUtf8(Buffer.from('plain/ascii/é'), 0, 14)).toBeNull();
  });
});

// The load generator, run in a child process (see client-driver.ts) so the parent's
// process.cpuUsage() is the in-process broker's alone. Speaks raw MQTT 3.1.1 (mqtt-wire.ts) and
// raw HTTP/1.1 POSTs (http-wire.ts) over 127.0.0.1 only. Every command is bounded in count and time; the process exits when the parent
// goes away.
import { connect as netConnect, type Socket } from 'node:net';
import {
  DISCONNECT,
  PacketReader,
  TYPE,
  connectPacket,
  publishId,
  publishPacket,
  pubackPacket,
  subscribePacket,
  type ConnectFields,
} from './mqtt-wire.ts';
import type { WorkerReply, WorkerRequest } from './client-driver.ts';
import { postJsonRequest, ResponseReader, type HttpResponse } from './http-wire.ts';

const HOST = '127.0.0.1';
const held: Socket[] = [];
/** PUBLISH packets received by the held subscribers (`subscribe`), counted by `fanout`. */
let delivered = 0;
let onDelivered: (() => void) | null = null;

interface Conn {
  socket: Socket;
  reader: PacketReader;
}

/** Opens a socket, sends CONNECT, resolves with the CONNACK return code and the latency. */
function openSession(
  port: number,
  f: ConnectFields,
  timeoutMs: number,
): Promise<{ rc: number; ms: number; conn: Conn }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const socket = netConnect({ host: HOST, port });
    socket.setNoDelay(true);
    const reader = new PacketReader();
    const timer = setTimeout(() => fail(new Error(`no CONNACK within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.once('error', fail);
    socket.once('close', () => fail(new Error('closed before CONNACK')));
    socket.on('connect', () => socket.write(connectPacket(f)));
    const onData = (chunk: Buffer) =>
      reader.feed(chunk, (p) => {
        if (p.type !== TYPE.CONNACK) return;
        clearTimeout(timer);
        socket.off('data', onData);
        socket.removeAllListeners('close');
        socket.removeAllListeners('error');
        socket.on('error', () => {});
        resolve({ rc: p.body[1] ?? 255, ms: performance.now() - t0, conn: { socket, reader } });
      });
    socket.on('data', onData);
  });
}

function endGracefully(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    const timer = setTimeout(() => {
      socket.destroy();
      resolve();
    }, 5_000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.end(DISCONNECT);
  });
}

async function connectMany(req: Extract<WorkerRequest, { cmd: 'connect' }>): Promise<WorkerReply> {
  const { port, clients, concurrency, hold } = req;
  const latencies: number[] = [];
  let refused = 0;
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const deadline = Date.now() + req.capMs;
  const t0 = performance.now();
  const lane = async () => {
    while (next < clients.length && Date.now() < deadline) {
      const f = clients[next++] as ConnectFields;
      try {
        const r = await openSession(port, f, 10_000);
        if (r.rc !== 0) {
          refused++;
          firstError ??= `CONNACK ${r.rc} for ${f.clientId}`;
          r.conn.socket.destroy();
          continue;
        }
        latencies.push(r.ms);
        if (hold) held.push(r.conn.socket);
        else await endGracefully(r.conn.socket);
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, clients.length) }, lane));
  const ms = performance.now() - t0;
  return {
    ok: true,
    ms,
    connected: latencies.length,
    refused,
    errors,
    latencies,
    ...(firstError ? { firstError } : {}),
  };
}

/** A client held by `subscribe`: counts the PUBLISHes it receives, answers SUBACKs. */
interface Subscriber {
  socket: Socket;
  suback: ((refused: boolean) => void) | null;
  nextId: number;
}
const subscribers: Subscriber[] = [];

function attach(conn: Conn): Subscriber {
  const s: Subscriber = { socket: conn.socket, suback: null, nextId: 1 };
  conn.socket.on('data', (chunk: Buffer) => {
    let n = 0;
    conn.reader.feed(chunk, (p) => {
      if (p.type === TYPE.PUBLISH) n++;
      else if (p.type === TYPE.SUBACK) {
        const cb = s.suback;
        s.suback = null;
        cb?.(p.body[2] === 0x80);
      }
    });
    if (n === 0) return;
    delivered += n;
    onDelivered?.();
  });
  return s;
}

/** SUBSCRIBE (QoS 0) and wait for the SUBACK; a refused filter is an error. */
function subscribeHeld(s: Subscriber, filter: string, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no SUBACK within ${timeoutMs} ms`)), timeoutMs);
    s.suback = (refused) => {
      clearTimeout(timer);
      if (refused) reject(new Error(`subscription to ${filter} refused (SUBACK 0x80)`));
      else resolve();
    };
    s.socket.write(subscribePacket(s.nextId++, filter, 0));
  });
}

async function subscribeMany(req: Extract<WorkerRequest, { cmd: 'subscribe' }>): Promise<WorkerReply> {
  const { port, clients, filters, concurrency } = req;
  let subscribed = 0;
  let refused = 0;
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const deadline = Date.now() + req.capMs;
  const t0 = performance.now();
  const lane = async () => {
    while (next < clients.length && Date.now() < deadline) {
      const i = next++;
      const f = clients[i] as ConnectFields;
      try {
        const r = await openSession(port, f, 10_000);
        if (r.rc !== 0) {
          refused++;
          firstError ??= `CONNACK ${r.rc} for ${f.clientId}`;
          r.conn.socket.destroy();
          continue;
        }
        const sub = attach(r.conn);
        held.push(r.conn.socket);
        // 10 s: a SUBACK on loopback takes well under a millisecond; 10 s means the broker is stuck.
        await subscribeHeld(sub, filters[i % filters.length] as string, 10_000);
        subscribers.push(sub);
        subscribed++;
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, clients.length) }, lane));
  return {
    ok: true,
    ms: performance.now() - t0,
    subscribed,
    refused,
    errors,
    ...(firstError ? { firstError } : {}),
  };
}

/** Every held subscriber adds one more filter. */
async function resubscribe(req: Extract<WorkerRequest, { cmd: 'resubscribe' }>): Promise<WorkerReply> {
  const t0 = performance.now();
  for (let i = 0; i < subscribers.length; i += req.concurrency)
    // 10 s per SUBACK, as in subscribeMany.
    await Promise.all(subscribers.slice(i, i + req.concurrency).map((s) => subscribeHeld(s, req.filter, 10_000)));
  return { ok: true, ms: performance.now() - t0, subscribed: subscribers.length };
}

async function fanout(req: Extract<WorkerRequest, { cmd: 'fanout' }>): Promise<WorkerReply> {
  const { count, deliveriesPerMessage: per, window } = req;
  const pub = await openSession(req.port, req.pub, 10_000);
  if (pub.rc !== 0) throw new Error(`publisher refused: CONNACK ${pub.rc}`);
  const template = publishPacket(req.topic, Buffer.from(req.payload), 0).bytes;
  const expected = count * per;
  delivered = 0;
  let sent = 0;
  const t0 = performance.now();
  const result = await new Promise<{ timedOut: boolean }>((resolve) => {
    let done = false;
    const finish = (timedOut: boolean) => {
      if (done) return;
      done = true;
      onDelivered = null;
      clearTimeout(cap);
      resolve({ timedOut });
    };
    const cap = setTimeout(() => finish(true), req.capMs);
    // At most `window` messages not yet delivered to every subscriber; refill once an eighth of
    // the window (at least one message) is free, as pubsub does.
    const pump = () => {
      if (done) return;
      if (delivered >= expected) return finish(false);
      const outstanding = sent - Math.floor(delivered / per);
      const free = Math.min(count - sent, window - outstanding);
      if (free <= 0 || free < Math.min(window / 8, count - sent)) return;
      sent += free;
      pub.conn.socket.write(free === 1 ? template : Buffer.concat(Array.from({ length: free }, () => template)));
    };
    onDelivered = pump;
    pub.conn.socket.once('close', () => finish(true));
    pump();
  });
  const ms = performance.now() - t0;
  await endGracefully(pub.conn.socket);
  return { ok: true, ms, sent, delivered, timedOut: result.timedOut };
}

async function releaseAll(): Promise<WorkerReply> {
  const all = held.splice(0);
  subscribers.length = 0;
  const t0 = performance.now();
  // Bounded fan-out: a few hundred FINs at a time.
  for (let i = 0; i < all.length; i += 500) await Promise.all(all.slice(i, i + 500).map(endGracefully));
  return { ok: true, ms: performance.now() - t0, closed: all.length };
}

async function pubsub(req: Extract<WorkerRequest, { cmd: 'pubsub' }>): Promise<WorkerReply> {
  const { port, qos, count, window, topic } = req;
  // The given payload (a Losant state report for the state topic), else 'a' * size.
  const payload = req.payload !== undefined ? Buffer.from(req.payload) : Buffer.alloc(req.size, 0x61);
  const sub = await openSession(req.subPort ?? port, req.sub, 10_000);
  if (sub.rc !== 0) throw new Error(`subscriber refused: CONNACK ${sub.rc}`);
  const pub = await openSession(port, req.pub, 10_000);
  if (pub.rc !== 0) throw new Error(`publisher refused: CONNACK ${pub.rc}`);
  const cleanup = () => Promise.all([endGracefully(sub.conn.socket), endGracefully(pub.conn.socket)]);

  // SUBSCRIBE and wait for SUBACK.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no SUBACK within 10 s')), 10_000);
    const onData = (chunk: Buffer) =>
      sub.conn.reader.feed(chunk, (p) => {
        if (p.type !== TYPE.SUBACK) return;
        clearTimeout(timer);
        sub.conn.socket.off('data', onData);
        if (p.body[2] === 0x80) reject(new Error(`subscription to ${topic} refused (SUBACK 0x80)`));
        else resolve();
      });
    sub.conn.socket.on('data', onData);
    sub.conn.socket.write(subscribePacket(1, topic, qos));
  });

  let sent = 0;
  let received = 0;
  let acked = 0;
  let nextId = 1;
  const template = publishPacket(topic, payload, qos, 1);
  const pktLen = template.bytes.length;
  const t0 = performance.now();
  const result = await new Promise<{ timedOut: boolean }>((resolve) => {
    let done = false;
    const finish = (timedOut: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(cap);
      resolve({ timedOut });
    };
    const cap = setTimeout(() => finish(true), req.capMs);
    // Keep at most `window` messages between the publisher and the subscriber (and, at QoS 1,
    // unacknowledged): the same flow control for every broker, and no broker has to drop.
    // Refill as soon as an eighth of the window is free: waiting for half of it to drain let the
    // stream stop long enough for Nagle + delayed ACKs to stall QoS 1 (throughput at 30% CPU).
    const pump = () => {
      const outstanding = Math.max(sent - received, qos === 1 ? sent - acked : 0);
      if (done || sent >= count || window - outstanding < window / 8) return;
      const n = Math.min(count - sent, window - outstanding);
      const buf = Buffer.allocUnsafe(n * pktLen);
      for (let i = 0; i < n; i++) {
        const off = i * pktLen;
        template.bytes.copy(buf, off);
        if (qos === 1) {
          buf.writeUInt16BE(nextId, off + template.idOffset);
          nextId = nextId === 65535 ? 1 : nextId + 1;
        }
      }
      sent += n;
      pub.conn.socket.write(buf);
    };
    sub.conn.socket.on('data', (chunk: Buffer) => {
      let acks: Buffer[] | null = null;
      sub.conn.reader.feed(chunk, (p) => {
        if (p.type !== TYPE.PUBLISH) return;
        received++;
        if (((p.flags >> 1) & 3) === 1) (acks ??= []).push(pubackPacket(publishId(p.body)));
      });
      if (acks) sub.conn.socket.write(Buffer.concat(acks));
      if (received >= count && (qos === 0 || acked >= count)) return finish(false);
      pump();
    });
    pub.conn.socket.on('data', (chunk: Buffer) => {
      pub.conn.reader.feed(chunk, (p) => {
        if (p.type === TYPE.PUBACK) acked++;
      });
      if (received >= count && acked >= count) return finish(false);
      pump();
    });
    const onClose = () => finish(true);
    pub.conn.socket.once('close', onClose);
    sub.conn.socket.once('close', onClose);
    pump();
  });
  const ms = performance.now() - t0;
  await cleanup();
  return { ok: true, ms, sent, received, acked, timedOut: result.timedOut };
}

/** One kept-alive connection that sends a request and waits for its response, one at a time. */
function httpLane(port: number): Promise<{ send(req: Buffer, timeoutMs: number): Promise<HttpResponse>; end(): void }> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: HOST, port });
    socket.setNoDelay(true);
    const reader = new ResponseReader();
    let waiting: { resolve: (r: HttpResponse) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | null =
      null;
    const fail = (err: Error) => {
      const w = waiting;
      waiting = null;
      if (w) {
        clearTimeout(w.timer);
        w.reject(err);
      }
    };
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.feed(chunk, (r) => {
          const w = waiting;
          waiting = null;
          if (!w) return;
          clearTimeout(w.timer);
          w.resolve(r);
        });
      } catch (err) {
        fail(err as Error);
        socket.destroy();
      }
    });
    socket.on('close', () => fail(new Error('the server closed the connection')));
    socket.once('error', (err) => {
      fail(err);
      reject(err);
    });
    socket.once('connect', () =>
      resolve({
        send: (bytes, timeoutMs) =>
          new Promise((res, rej) => {
            // A server that never answers ends the run instead of hanging it.
            const timer = setTimeout(() => fail(new Error(`no response within ${timeoutMs} ms`)), timeoutMs);
            waiting = { resolve: res, reject: rej, timer };
            socket.write(bytes);
          }),
        end: () => socket.end(),
      }),
    );
  });
}

async function httpPostMany(req: Extract<WorkerRequest, { cmd: 'http-post' }>): Promise<WorkerReply> {
  const { port, path, bodies, concurrency } = req;
  // Built before the clock starts: the run measures the server, not the request building.
  const requests = bodies.map((b) => postJsonRequest(HOST, port, path, b));
  const lanes = await Promise.all(Array.from({ length: Math.min(concurrency, requests.length) }, () => httpLane(port)));
  const latencies: number[] = [];
  let failed = 0;
  let firstError: string | undefined;
  let next = 0;
  const deadline = Date.now() + req.capMs;
  const t0 = performance.now();
  await Promise.all(
    lanes.map(async (lane) => {
      while (next < requests.length && Date.now() < deadline) {
        const bytes = requests[next++] as Buffer;
        const s = performance.now();
        try {
          const r = await lane.send(bytes, 10_000);
          if (r.status === 200) latencies.push(performance.now() - s);
          else {
            failed++;
            firstError ??= `HTTP ${r.status}: ${r.body.toString('utf8').slice(0, 200)}`;
          }
        } catch (err) {
          failed++;
          firstError ??= (err as Error).message;
          return; // this connection is gone; the other lanes finish the run
        }
      }
    }),
  );
  const ms = performance.now() - t0;
  for (const lane of lanes) lane.end();
  failed += requests.length - next;
  return { ok: true, ms, ok200: latencies.length, failed, latencies, ...(firstError ? { firstError } : {}) };
}

async function handle(req: WorkerRequest): Promise<WorkerReply> {
  switch (req.cmd) {
    case 'connect':
      return connectMany(req);
    case 'release':
      return releaseAll();
    case 'pubsub':
      return pubsub(req);
    case 'subscribe':
      return subscribeMany(req);
    case 'resubscribe':
      return resubscribe(req);
    case 'fanout':
      return fanout(req);
    case 'http-post':
      return httpPostMany(req);
    case 'cpu': {
      const u = process.cpuUsage();
      return { ok: true, cpuMs: (u.user + u.system) / 1000 };
    }
  }
}

process.on('message', (msg: { id: number; req: WorkerRequest }) => {
  handle(msg.req).then(
    (reply) => process.send?.({ id: msg.id, reply }),
    (err: unknown) => process.send?.({ id: msg.id, reply: { ok: false, error: (err as Error).message } }),
  );
});
process.on('disconnect', () => {
  for (const s of held) s.destroy();
  process.exit(0);
});
process.send?.({ id: 0, reply: { ok: true, ready: true } });

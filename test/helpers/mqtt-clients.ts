// Real MQTT clients for integration tests: mqtt.js connections that resolve on CONNACK 0 or
// reject with the CONNACK return code, and a wrapper for Debian's mosquitto_pub / mosquitto_sub
// with a hard timeout. Every wait is on an event or a process exit, never a sleep.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import mqtt from 'mqtt';
import type { IClientOptions, ISubscriptionGrant, MqttClient } from 'mqtt';
import type { DecisionEvent } from '../../src-main/core/decision-event.ts';
import type { Device, DeviceState } from '../../src-main/core/types.ts';
import type { Dial } from './broker-harness.ts';
import type { BackendHarness } from './runtime-harness.ts';

export const MOSQUITTO_PUB = '/usr/bin/mosquitto_pub';
export const MOSQUITTO_SUB = '/usr/bin/mosquitto_sub';
export const HAVE_MOSQUITTO = existsSync(MOSQUITTO_PUB) && existsSync(MOSQUITTO_SUB);

/** A refused CONNECT: the CONNACK return code mqtt.js reported (`err.code`). */
export class ConnectRefused extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'ConnectRefused';
  }
}

/** Resolves with `p`, or rejects after `ms` naming what was awaited. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, guard]).finally(() => clearTimeout(timer));
}

/**
 * Tracks every mqtt.js client a test opens so afterEach can end them all.
 * Defaults: reconnectPeriod 0 (never reconnect on its own), connectTimeout 5 s (a loopback CONNACK takes ms; past 5 s mqtt.js reports the hang itself).
 */
export class ClientPool {
  readonly #clients = new Set<MqttClient>();

  /**
   * Connects to a URL (a real listener) or through an in-memory Dial (broker-harness.ts);
   * resolves on 'connect', rejects with ConnectRefused (CONNACK code) or the error.
   */
  connect(target: string | Dial, opts: IClientOptions = {}): Promise<MqttClient> {
    const options = { reconnectPeriod: 0, connectTimeout: 5_000, ...opts };
    const client =
      typeof target === 'string' ? mqtt.connect(target, options) : new mqtt.MqttClient(target.stream, options);
    this.#clients.add(client);
    return new Promise<MqttClient>((resolve, reject) => {
      const cleanup = () => {
        client.off('connect', onConnect);
        client.off('error', onError);
        client.off('close', onClose);
      };
      const onConnect = () => {
        cleanup();
        client.on('error', () => {}); // later errors surface as 'close'; never unhandled
        resolve(client);
      };
      const onError = (err: Error & { code?: unknown }) => {
        cleanup();
        client.on('error', () => {});
        reject(typeof err.code === 'number' ? new ConnectRefused(err.code, err.message) : err);
      };
      const onClose = () => {
        cleanup();
        client.on('error', () => {});
        reject(new Error('connection closed before CONNACK'));
      };
      client.on('connect', onConnect);
      client.on('error', onError);
      client.on('close', onClose);
    });
  }

  /** Connects expecting a refusal; resolves with the CONNACK return code. */
  async refusal(target: string | Dial, opts: IClientOptions = {}): Promise<{ code: number; message: string }> {
    try {
      await this.connect(target, opts);
    } catch (err) {
      if (err instanceof ConnectRefused) return { code: err.code, message: err.message };
      throw err;
    }
    throw new Error(
      `expected the CONNECT to ${typeof target === 'string' ? target : target.transport} to be refused, but it was accepted`,
    );
  }

  /** Ends every client (forcefully) and forgets them. */
  async endAll(): Promise<void> {
    const all = [...this.#clients];
    this.#clients.clear();
    await Promise.all(all.map((c) => c.endAsync(true).catch(() => {})));
  }
}

/** Resolves when the client's connection closes (immediately if it already has). */
// The 5 s defaults below bound waits for one event on loopback (a close, a message, a status
// change) that takes milliseconds; they exist to fail with a message naming the awaited event
// rather than the bare test timeout (20 s), and leave room for a machine busy 100x over.
export function closed(client: MqttClient, ms = 5_000): Promise<void> {
  if (!client.connected) return Promise.resolve();
  return within(new Promise<void>((resolve) => client.once('close', () => resolve())), ms, "the client's 'close'");
}

/** Resolves with the payload of the first message on `topic` the client receives. */
export function nextMessage(
  client: MqttClient,
  topic: string,
  ms = 5_000,
): Promise<{ payload: string; retain: boolean }> {
  return within(
    new Promise((resolve) => {
      const on = (t: string, payload: Buffer, packet: { retain?: boolean }) => {
        if (t !== topic) return;
        client.off('message', on);
        resolve({ payload: payload.toString(), retain: packet.retain === true });
      };
      client.on('message', on);
    }),
    ms,
    `a message on ${topic}`,
  );
}

/** Collects every message the client receives, topic by topic, from now on. */
export function collect(client: MqttClient): Array<{ topic: string; payload: string; retain: boolean }> {
  const got: Array<{ topic: string; payload: string; retain: boolean }> = [];
  client.on('message', (topic, payload, packet) =>
    got.push({ topic, payload: payload.toString(), retain: packet.retain === true }),
  );
  return got;
}

/**
 * SUBSCRIBE with several filters in ONE packet; resolves with one grant per filter, in order
 * (qos 128 = refused). mqtt.js 5.16 rejects the whole subscribe with an ErrorWithSubackPacket as
 * soon as ANY return code is >= 0x80, even though the other filters were granted; the SUBACK's
 * return codes are then on `err.packet.granted`, which is what this reads.
 */
export async function subscribe(client: MqttClient, filters: string[], qos: 0 | 1 = 0): Promise<ISubscriptionGrant[]> {
  try {
    const grants = await client.subscribeAsync(filters, { qos });
    return grants;
  } catch (err) {
    const granted = (err as { packet?: { granted?: unknown } }).packet?.granted;
    if (!Array.isArray(granted)) throw err;
    return filters.map((topic, i) => ({ topic, qos: granted[i] as ISubscriptionGrant['qos'] }));
  }
}

export interface ProcessResult {
  /** Exit code (null when killed by a signal). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the hard timeout killed it. */
  timedOut: boolean;
}

/**
 * Runs mosquitto_pub or mosquitto_sub with `args`; resolves (never rejects on a non-zero exit)
 * once the process exits. `timeoutMs` is a hard kill (SIGKILL) so a hung client cannot stall the
 * suite; pass mosquitto_sub its own `-W seconds` / `-C count` so it ends by itself.
 */
export function mosquitto(
  tool: 'mosquitto_pub' | 'mosquitto_sub',
  args: string[],
  timeoutMs = 8_000, // a mosquitto client run is ~10 ms; 8 s is a hung process (killed), not a slow one
): Promise<ProcessResult> {
  const file = tool === 'mosquitto_pub' ? MOSQUITTO_PUB : MOSQUITTO_SUB;
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8' },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: unknown; killed?: boolean; signal?: NodeJS.Signals | null }) | null;
        if (e && typeof e.code === 'string') return reject(e); // spawn failure (ENOENT…)
        resolve({
          code: child.exitCode,
          signal: child.signalCode,
          stdout,
          stderr,
          timedOut: e?.killed === true && child.signalCode === 'SIGKILL',
        });
      },
    );
  });
}

/** `-h 127.0.0.1 -p PORT -i ID -u KEY -P SECRET` for mosquitto_* against a Keyport listener. */
export function mosquittoAuth(port: number, clientId: string, key?: string, secret?: string): string[] {
  return [
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-i',
    clientId,
    ...(key ? ['-u', key] : []),
    ...(secret ? ['-P', secret] : []),
  ];
}

// ---- Waiting on the backend (decision feed and service events) --------------------------------

/**
 * A decision waiter that only sees events recorded AFTER this call (the harness's `decision`
 * also matches older events, which is wrong when the same device connects twice in a test).
 */
export function decisionsFrom(
  h: BackendHarness,
): (pred: (e: DecisionEvent) => boolean, timeoutMs?: number) => Promise<DecisionEvent> {
  const since = h.rt.service.feed.list(1)[0]?.seq ?? 0;
  return (pred, timeoutMs) => h.decision((e) => e.seq > since && pred(e), timeoutMs);
}

/** Every decision recorded so far for a device (oldest first). */
export function decisionsOf(h: BackendHarness, deviceId: string): DecisionEvent[] {
  return h.rt.service.feed.list().filter((e) => e.deviceId === deviceId);
}

/**
 * Resolves with the device once a `device.status` event for it satisfies `pred` (persisted
 * connection-status writes are asynchronous). Only events emitted from now on count.
 */
export function nextStatus(
  h: BackendHarness,
  deviceId: string,
  pred: (d: Device) => boolean,
  ms = 5_000,
): Promise<Device> {
  let off: () => void = () => {};
  const p = new Promise<Device>((resolve) => {
    off = h.rt.service.events.on('device.status', (d) => {
      if (d.id === deviceId && pred(d)) resolve(d);
    });
  });
  return within(p, ms, `a device.status event for ${deviceId}`).finally(() => off());
}

/** Resolves with the next `device.state` event for a device. */
export function nextState(h: BackendHarness, deviceId: string, ms = 5_000): Promise<DeviceState> {
  let off: () => void = () => {};
  const p = new Promise<DeviceState>((resolve) => {
    off = h.rt.service.events.on('device.state', (e) => {
      if (e.deviceId === deviceId) resolve(e.state);
    });
  });
  return within(p, ms, `a device.state event for ${deviceId}`).finally(() => off());
}

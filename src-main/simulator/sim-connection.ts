// One connection attempt of a simulated device: a fresh mqtt.js client (sim-client.ts) and what
// happened on it — CONNACK refusal code or network error, the publishes of the current report
// (to tell, client-side, which one a close followed), and a clean end.
import type { MqttClient } from 'mqtt';
import { discardClient, openClient, type ClientTarget } from './sim-client.ts';
import type { OutgoingMessage } from './sim-reports.ts';

export interface ConnectionHandlers {
  connect(c: SimConnection): void;
  close(c: SimConnection): void;
  message(c: SimConnection, topic: string, payload: Buffer): void;
}

export class SimConnection {
  readonly client: MqttClient;
  connected = false;
  closed = false;
  endedByUs = false;
  refusedCode: number | undefined;
  error: string | undefined;
  #burst: { topic: string; qos: 0 | 1; acked: boolean }[] = [];
  #queue: { m: OutgoingMessage; acked: () => void }[] = [];
  #inFlight = false;

  constructor(
    target: ClientTarget,
    h: ConnectionHandlers,
    private readonly serial = false,
  ) {
    this.client = openClient(target);
    this.client.on('connect', () => {
      if (this.closed) return;
      this.connected = true;
      h.connect(this);
    });
    this.client.on('error', (err: Error & { code?: unknown }) => {
      if (typeof err.code === 'number') this.refusedCode = err.code;
      else this.error ??= err.message || String(err.code ?? 'connection error');
    });
    this.client.on('close', () => {
      if (this.closed) return;
      this.closed = true;
      discardClient(this.client); // its unacknowledged QoS 1 messages go with it, never re-sent
      h.close(this);
    });
    this.client.on('message', (topic, payload) => h.message(this, topic, payload));
  }

  /** Starts a new report; the topics of the previous one passed (the connection is still up). */
  newBurst(passed: Set<string>): void {
    for (const s of this.#burst) passed.add(s.topic);
    this.#burst = [];
  }

  /** Client-side (another broker): one QoS 1 message in flight at a time, so a close that follows
   * it names it for sure; with the broker's own feed there is no need and messages pipeline. */
  publish(m: OutgoingMessage, acked: () => void): void {
    if (!this.serial) return this.#send(m, acked);
    this.#queue.push({ m, acked });
    this.#pump();
  }

  #pump(): void {
    while (!this.#inFlight && this.#queue.length > 0 && !this.closed) {
      const { m, acked } = this.#queue.shift()!;
      if (m.qos === 0) {
        this.#send(m, acked);
        continue;
      }
      this.#inFlight = true;
      this.#send(m, () => {
        this.#inFlight = false;
        acked();
        this.#pump();
      });
    }
  }

  #send(m: OutgoingMessage, acked: () => void): void {
    const sent = { topic: m.topic, qos: m.qos, acked: false };
    this.#burst.push(sent);
    this.client.publish(m.topic, m.payload, { qos: m.qos }, (err) => {
      if (err || this.closed) return;
      sent.acked = true;
      acked();
    });
  }

  /** One SUBSCRIBE; `done` gets the SUBACK return code per filter (0x80 = refused). */
  subscribe(filters: string[], qos: 0 | 1, done: (codes: number[]) => void): void {
    const codes = (granted: unknown[]) =>
      filters.map((_, i) => (typeof granted[i] === 'number' ? (granted[i] as number) : 0x80));
    this.client.subscribeAsync(filters, { qos }).then(
      (grants) => done(codes(grants.map((g) => g.qos))),
      // mqtt.js 5 rejects the whole subscribe when ANY filter got 0x80; the codes are on err.packet.granted.
      (err: { packet?: { granted?: unknown } }) => {
        if (Array.isArray(err.packet?.granted)) done(codes(err.packet.granted));
      },
    );
  }

  /** Client-side guess of the publish a close followed: an unacknowledged QoS 1 message is the
   * strongest evidence; else the first topic of this report not yet seen to pass; else the last. */
  suspectTopic(passed: ReadonlySet<string>): string | undefined {
    const unacked = this.#burst.find((s) => s.qos === 1 && !s.acked);
    if (unacked) return unacked.topic;
    return this.#burst.find((s) => !passed.has(s.topic))?.topic ?? this.#burst.at(-1)?.topic;
  }

  /** DISCONNECT and close (forcefully after 2 s, or at once when not connected). */
  async end(): Promise<void> {
    this.endedByUs = true;
    const client = this.client;
    client.removeAllListeners('message');
    client.on('error', () => {});
    if (!this.connected || this.closed) return void client.end(true);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        client.end(true);
        resolve();
      }, 2000);
      client.end(false, {}, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

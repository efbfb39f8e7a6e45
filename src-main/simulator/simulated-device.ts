// One simulated device (docs/design.md §7): its own MQTT connection (client id = device id, username/password
// = key/secret), state reports on an interval or on demand, its command topic and custom topics,
// command reactions, and reconnects it manages itself: every attempt is a FRESH mqtt.js client, so
// an unacknowledged QoS 1 message is never re-sent; a refused CONNECT backs off exponentially and
// stops after a bounded number of attempts; a publish the broker refused (it closes the
// connection) is remembered and never published again, and the reconnect waits its back-off.
// Given a list of broker URLs (a cluster), it starts on the first and, when its node goes away
// (a live connection closed, a connect that failed on the network), moves to the next one, round
// the list; a refused CONNECT (a policy outcome) stays where it is.
import type { StateValue } from '../core/types.ts';
import { TypedEmitter } from '../shared/typed-emitter.ts';
import { BrokerList } from './broker-list.ts';
import { backoffDelay, backoffOptions, type Backoff, type BackoffOptions } from './backoff.ts';
import {
  closedAfterPublishOutcome,
  closedOutcome,
  connackOutcome,
  publishedOutcome,
  subackOutcome,
  type Outcome,
  type OutcomeTarget,
} from './outcomes.ts';
import { applyReactions, readCommand } from './reactions.ts';
import { SimConnection } from './sim-connection.ts';
import { SimRecord } from './sim-record.ts';
import { ReportBuilder } from './sim-reports.ts';
import { LOG_PAYLOAD_CHARS, type SimConfig, type SimLogEntry, type SimSnapshot, type SimStatus } from './types.ts';

export interface SimDeviceEvents {
  changed: { id: string };
  log: { id: string; entry: SimLogEntry };
}

export interface SimDeviceOptions {
  id: string;
  config: SimConfig;
  /** The broker URL for this device's transport (ws URLs include the path), or a list to fail over
   * along: the device starts on the first. */
  url: string | readonly string[];
  keyId?: string;
  /** 'broker': outcomes come from the decision feed (applyOutcome); 'client': from the client's own view. */
  outcomes: 'broker' | 'client';
  backoff?: BackoffOptions;
  rand?: () => number;
  connectTimeoutMs?: number;
  fleetId?: string;
  scenario?: string;
  logLimit?: number;
  /** Initial status (restored simulations start 'stopped'). */
  status?: SimStatus;
}

export class SimulatedDevice implements OutcomeTarget {
  readonly events = new TypedEmitter<SimDeviceEvents>();
  readonly id: string;
  readonly config: SimConfig;
  readonly outcomeSource: 'broker' | 'client';
  readonly fleetId: string | undefined;
  readonly scenario: string | undefined;
  keyId: string | undefined;
  credentialsSaved = false;
  readonly #brokers: BrokerList;
  readonly #backoff: Backoff;
  readonly #connectTimeoutMs: number | undefined;
  readonly #logLimit: number;
  readonly #record: SimRecord;
  readonly #reports: ReportBuilder;
  #status: SimStatus = 'idle';
  #running = false;
  #conn: SimConnection | null = null;
  #refusals = 0;
  #failures = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #reportTimer: NodeJS.Timeout | undefined;
  #stableTimer: NodeJS.Timeout | undefined;
  #nextRetryAt: string | undefined;
  #startedAt = Date.now();
  #overrides: Record<string, StateValue> = {};
  /** Topics seen to pass (client-side guessing only). */
  #passed = new Set<string>();
  /** The last payload sent per topic, shown with the broker's decision on it in the log. */
  readonly #sentPayloads = new Map<string, string>();

  constructor(opts: SimDeviceOptions) {
    this.id = opts.id;
    this.config = opts.config;
    this.#brokers = new BrokerList(opts.url);
    this.keyId = opts.keyId;
    this.outcomeSource = opts.outcomes;
    this.fleetId = opts.fleetId;
    this.scenario = opts.scenario;
    this.#backoff = backoffOptions(opts.backoff);
    this.#connectTimeoutMs = opts.connectTimeoutMs;
    this.#logLimit = opts.logLimit ?? 100;
    if (opts.status) this.#status = opts.status;
    this.#record = new SimRecord(this.#logLimit, (entry) => {
      this.events.emit('log', { id: this.id, entry });
      this.#changed();
    });
    this.#reports = new ReportBuilder(opts.config.deviceId, opts.config.behaviour, opts.rand);
  }

  get deviceId(): string {
    return this.config.deviceId;
  }
  get status(): SimStatus {
    return this.#status;
  }
  get running(): boolean {
    return this.#running;
  }
  get connected(): boolean {
    return this.#conn?.connected === true;
  }
  get scopeChanged(): boolean {
    return this.#record.scopeChanged;
  }
  get connectionReason(): string | undefined {
    return this.#record.connectionReason;
  }
  /** The broker URL this device is on, or trying next. */
  get broker(): string {
    return this.#brokers.current;
  }
  /** Moves to another broker of the list so far (its node went away). */
  get failovers(): number {
    return this.#brokers.moves;
  }

  /** A line in this simulation's log (scenario stages, restored credentials, ...). */
  note(detail: string, ok = true): void {
    this.#record.note('info', ok, detail);
  }

  /** Connects (a fresh start: the refused-topic memory and the attempt count are reset). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#refusals = 0;
    this.#failures = 0;
    this.#record.denied.clear();
    this.#record.stopReason = undefined;
    this.#startedAt = Date.now();
    this.#connect();
  }

  /** Disconnects cleanly (DISCONNECT) and stays stopped. */
  async stop(note = 'stopped'): Promise<void> {
    const wasActive = this.#running || this.#conn !== null;
    this.#running = false;
    this.#clearTimers();
    const conn = this.#conn;
    this.#conn = null;
    this.#nextRetryAt = undefined;
    if (conn) await conn.end();
    this.#setStatus('stopped');
    if (wasActive) this.note(note);
  }

  /** Drops the connection and connects again now (a person's "reconnect", not a back-off retry). */
  async reconnect(): Promise<void> {
    if (!this.#running) return this.start();
    this.#clearTimers();
    const conn = this.#conn;
    this.#conn = null;
    this.note('reconnecting');
    if (conn) await conn.end(); // DISCONNECT first, so the new connection is not a take-over
    if (!this.#running || this.#conn) return;
    this.#refusals = 0;
    this.#failures = 0;
    this.#connect();
  }

  /**
   * Publishes one message as this device, through its own connection and key (the Messages view's
   * "Publish as"): the broker decides it like any other. False when not connected.
   */
  publishOnce(topic: string, payload: string, qos: 0 | 1, retain: boolean): boolean {
    const conn = this.#conn;
    if (!conn?.connected || conn.closed) return false;
    this.#remember(topic, payload);
    conn.client.publish(topic, payload, { qos, retain });
    return true;
  }

  #remember(topic: string, payload: string): void {
    this.#sentPayloads.delete(topic);
    this.#sentPayloads.set(topic, shortPayload(payload));
    if (this.#sentPayloads.size > 32) this.#sentPayloads.delete(this.#sentPayloads.keys().next().value!);
  }

  /** "Send one report": false when not connected. */
  reportNow(): boolean {
    const conn = this.#conn;
    if (!conn?.connected) return false;
    this.#report(conn);
    return true;
  }

  applyOutcome(o: Outcome): void {
    this.#brokers.saw(o.entry);
    const topic = o.entry.topic;
    if (o.entry.kind === 'publish' && topic !== undefined && o.entry.payload === undefined) {
      const p = this.#sentPayloads.get(topic);
      if (p !== undefined) o.entry.payload = p;
    }
    this.#record.apply(o);
  }

  noteScopeChanged(): void {
    if (this.#record.scopeChanged || !this.connected) return;
    this.#record.scopeChanged = true;
    this.note(
      "the device's tags changed while connected: it stays connected (the key's scope was resolved at connect); the next connect is checked against the new tags",
    );
  }

  snapshot(logLimit = this.#logLimit): SimSnapshot {
    const c = this.config;
    return {
      id: this.id,
      deviceId: c.deviceId,
      name: c.name ?? c.deviceId,
      ...(this.keyId !== undefined ? { keyId: this.keyId } : {}),
      transport: c.transport,
      status: this.#status,
      outcomes: this.outcomeSource,
      ...this.#record.fields(logLimit),
      ...(this.credentialsSaved ? { credentialsSaved: true } : {}),
      ...(this.#nextRetryAt !== undefined ? { nextRetryAt: this.#nextRetryAt } : {}),
      ...(this.#brokers.many
        ? { broker: this.broker, brokers: [...this.#brokers.urls], failovers: this.failovers }
        : {}),
      ...(this.fleetId !== undefined ? { fleetId: this.fleetId } : {}),
      ...(this.scenario !== undefined ? { scenario: this.scenario } : {}),
    };
  }

  // ---- connection lifecycle --------------------------------------------------------------------

  #connect(): void {
    this.#nextRetryAt = undefined;
    this.#record.scopeChanged = false;
    this.#brokers.attempting();
    const c = this.config;
    this.#conn = new SimConnection(
      {
        url: this.broker,
        transport: c.transport,
        clientId: c.deviceId,
        username: c.credentials.key,
        password: c.credentials.secret,
        ...(c.sourceAddress !== undefined ? { sourceAddress: c.sourceAddress } : {}),
        ...(this.#connectTimeoutMs !== undefined ? { connectTimeoutMs: this.#connectTimeoutMs } : {}),
      },
      {
        connect: (conn) => this.#onConnect(conn),
        close: (conn) => this.#onClose(conn),
        message: (conn, t, p) => this.#onMessage(conn, t, p),
      },
      this.outcomeSource === 'client',
    );
    this.#setStatus('connecting');
  }

  #onConnect(conn: SimConnection): void {
    if (conn !== this.#conn) return;
    this.#refusals = 0;
    if (this.outcomeSource === 'client') this.applyOutcome(connackOutcome(0));
    this.#setStatus('connected');
    this.#stableTimer = setTimeout(() => (this.#failures = 0), this.#backoff.stableMs);
    this.#stableTimer.unref();
    this.#subscribe(conn);
    this.#report(conn);
    const every = this.config.behaviour.everySeconds;
    if (every !== null) {
      this.#reportTimer = setInterval(() => this.#report(conn), Math.max(100, every * 1000));
      this.#reportTimer.unref();
    }
  }

  #onClose(conn: SimConnection): void {
    if (conn !== this.#conn) return; // an old connection we already replaced or ended
    this.#conn = null;
    this.#clearTimers();
    if (conn.endedByUs || !this.#running) return;
    this.#failures++;
    if (!conn.connected) return this.#afterFailedConnect(conn);
    // The broker closed a live connection: after a refused publish (MQTT 3.1.1 has no negative
    // PUBACK), because the key was disabled, the session was taken over, or the broker stopped.
    if (this.outcomeSource === 'client') {
      // With a list of brokers a close is as likely a node going away as a refused publish: not
      // guessed as a refusal (that would stop the topic for good on every node).
      const suspect = this.#brokers.many ? undefined : conn.suspectTopic(this.#passed);
      this.applyOutcome(suspect !== undefined ? closedAfterPublishOutcome(suspect) : closedOutcome());
    }
    // Unless the feed said it was policy, the node went away (client-side there is no telling: the
    // device moves on; a key refused there is refused on the next node too).
    this.#moved(this.#brokers.afterClose(), 'closed the connection');
    this.#retry('backing-off', 'connection closed by the broker');
  }

  /** Logs a move to the next broker of the list: where from, where to and why. */
  #moved(move: { from: string; to: string } | undefined, what: string): void {
    if (!move) return;
    this.#record.note('info', false, `${move.from} ${what}; moving to ${move.to}`, {
      reason: 'broker.failover',
      broker: move.to,
    });
  }

  #afterFailedConnect(conn: SimConnection): void {
    this.#refusals++;
    const refused = conn.refusedCode !== undefined;
    if (refused && this.outcomeSource === 'client') this.applyOutcome(connackOutcome(conn.refusedCode as number));
    const last = this.#record.lastDecision;
    const why = refused
      ? last?.action === 'connect' && last.result === 'denied'
        ? last.reason
        : `CONNACK ${conn.refusedCode}`
      : `could not connect to ${this.broker}: ${conn.error ?? 'connection closed before CONNACK'}`;
    if (!refused) this.#record.note('error', false, why, { reason: 'connect.failed', source: 'client' });
    const limit = this.#brokers.attemptLimit(this.#backoff.maxAttempts, refused);
    if (this.#refusals >= limit) {
      this.#running = false;
      const stop = `gave up after ${this.#refusals} ${refused ? 'refused' : 'failed'} connection attempts (last: ${why})`;
      this.#record.stopReason = stop;
      this.#record.note('backoff', false, stop, { reason: refused ? why : 'connect.failed' });
      this.#setStatus('stopped');
      return;
    }
    if (!refused) this.#moved(this.#brokers.next(), 'could not be reached');
    this.#retry(refused ? 'refused' : 'backing-off', refused ? `connection refused (${why})` : 'connection failed');
  }

  #retry(status: SimStatus, what: string): void {
    const delay = backoffDelay(this.#failures, this.#backoff);
    this.#nextRetryAt = new Date(Date.now() + delay).toISOString();
    const limit = this.#brokers.attemptLimit(this.#backoff.maxAttempts, status === 'refused');
    const attempt = this.#refusals > 0 ? ` (attempt ${this.#refusals + 1} of ${limit})` : '';
    this.#record.note('backoff', false, `${what}; retrying in ${delay} ms${attempt}`);
    this.#setStatus(status);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#running) this.#connect();
    }, delay);
  }

  #clearTimers(): void {
    clearTimeout(this.#retryTimer);
    clearInterval(this.#reportTimer);
    clearTimeout(this.#stableTimer);
    this.#retryTimer = this.#reportTimer = this.#stableTimer = undefined;
  }

  // ---- traffic ---------------------------------------------------------------------------------

  #subscribe(conn: SimConnection): void {
    const filters = [`losant/${this.deviceId}/command`, ...(this.config.behaviour.customSubscribe ?? [])];
    conn.subscribe(filters, this.config.behaviour.qos ?? 0, (codes) => {
      if (this.outcomeSource === 'client' && !conn.closed)
        filters.forEach((f, i) => this.applyOutcome(subackOutcome(f, codes[i] ?? 0x80)));
    });
  }

  #report(conn: SimConnection): void {
    if (!conn.connected || conn.closed) return;
    conn.newBurst(this.#passed);
    const r = this.#record;
    const t = (Date.now() - this.#startedAt) / 1000;
    const { attributes, messages } = this.#reports.build(t, r.reports + 1, this.#overrides, r.denied);
    r.attributes = attributes;
    for (const m of messages) {
      if (m.own) r.reports++;
      this.#remember(m.topic, m.payload);
      conn.publish(m, () => {
        if (m.qos === 1) this.#passed.add(m.topic);
        if (this.outcomeSource === 'client') this.applyOutcome(publishedOutcome(m.topic, m.qos));
      });
    }
    this.#changed();
  }

  #onMessage(conn: SimConnection, topic: string, payload: Buffer): void {
    if (conn !== this.#conn) return;
    const r = this.#record;
    if (topic !== `losant/${this.deviceId}/command`)
      return r.note('info', true, `message received (${payload.length} bytes)`, {
        topic,
        payload: shortPayload(payload.toString('utf8')),
      });
    r.commands++;
    const c = readCommand(payload);
    if (!c.ok) return r.note('command', false, c.error, { topic });
    r.note('command', true, c.shown, { topic });
    const set = applyReactions(this.config.behaviour.reactions ?? [], c.name, c.payload);
    if (Object.keys(set).length === 0) return;
    Object.assign(this.#overrides, set);
    r.note(
      'info',
      true,
      `reaction to ${c.name}: set ${Object.entries(set)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(', ')}`,
    );
    this.#report(conn);
  }

  // ---- bookkeeping -----------------------------------------------------------------------------

  #setStatus(s: SimStatus): void {
    if (this.#status === s) return;
    this.#status = s;
    this.#changed();
  }

  #changed(): void {
    this.events.emit('changed', { id: this.id });
  }
}

function shortPayload(p: string): string {
  return p.length > LOG_PAYLOAD_CHARS ? p.slice(0, LOG_PAYLOAD_CHARS) + '…' : p;
}

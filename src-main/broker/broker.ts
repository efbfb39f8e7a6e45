// The embedded aedes broker. Its hooks only translate core decisions into MQTT outcomes
// (CONNACK codes, SUBACK 0x80, dropped deliveries, closed connections) and record each one in
// the decision feed. Policy lives in src-main/core.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  Aedes,
  type AedesPublishPacket,
  type Client,
  type ConnectPacket,
  type PublishPacket,
  type Subscription,
} from 'aedes';
import { evaluateConnect, type ConnectEnv, type ConnectRequest } from '../core/connect.ts';
import type { TrustedProxies } from '../core/client-address.ts';
import { parseCommand } from '../core/payloads.ts';
import {
  classifyTopic,
  deliverAllowed,
  deliverDecision,
  publishDecision,
  subscribeDecision,
  type SessionView,
  type TopicRules,
} from '../core/topic-access.ts';
import type { Decision, ReasonCode, Transport } from '../core/types.ts';
import type { DecisionEvent } from '../core/decision-event.ts';
import type { BrokerBackend, NewDecision } from './broker-backend.ts';
import { Sessions, type LiveSession } from './sessions.ts';
import { watchServiceChanges } from './session-policy.ts';
import { RateMeter } from './rate-meter.ts';
import { withDeliveryQos } from './retained-qos.ts';
import { parserOf } from './aedes-internals.ts';
import { resolveBrokerLimits, type BrokerLimits } from './broker-limits.ts';
import { describeSlow, guardSlowConsumer, type SlowVerdict } from './slow-consumer.ts';
import {
  batchOf,
  stepBatch,
  summaryRefused,
  tagSubscribe,
  tooManyFiltersRule,
  type SubscribeBoundsLimits,
} from './subscribe-bounds.ts';
import { wireDecision, wsTooLargeDecision, type WireDecision } from './wire-decisions.ts';
import { installWireGuard, WireFramer, type WireViolation } from './wire-guard.ts';
import type { BrokerStatus, ListenerInfo } from '../contract.ts';
import { LIMIT_CLOSES, LimitsHook } from './losant-limits.ts';
import type { LimitsMode } from '../core/limits.ts';
import type { MessageSink } from './message-sink.ts';

export interface BrokerOptions {
  service: BrokerBackend;
  trustedProxies: TrustedProxies;
  /** Log line sink for unexpected errors (never given secrets). */
  log?: (line: string) => void;
  /** Per-connection limits (broker-limits.ts); defaults for what is not given. */
  limits?: Partial<BrokerLimits>;
  /** The WebSocket listener's message limit, to name it when ws refuses a frame. */
  wsMaxMessageBytes?: number;
  /** Losant limits mode (losant-limits.ts): 'losant' (default) or 'off'; `now` is its clock. */
  limitsMode?: LimitsMode;
  now?: () => number;
  /** Told of every PUBLISH the broker decides and every message the platform publishes (message-sink.ts). */
  onMessage?: MessageSink;
}

interface ClientInfo {
  transport: Transport;
  session?: LiveSession;
  /** The session as the topic checks see it; made once at CONNECT, its rules read live. */
  view?: SessionView;
}

/** Closes for which the session's authority is gone (no will, result "denied" in the feed). */
const REVOKED: ReadonlySet<ReasonCode> = new Set(['key.inactive', 'key.deleted', 'device.unknown']);
const POLICY_CLOSES: ReadonlySet<ReasonCode> = new Set([
  ...REVOKED,
  'publish.denied',
  'session.taken-over',
  'topic.invalid',
  'packet.too-large',
  'payload.too-large',
  'client.slow',
  ...LIMIT_CLOSES,
]);

const NO_RULES: TopicRules = { filterType: 'none', pubTopics: [], subTopics: [] };

function peerOf(client: Client, transport: Transport): { peer: string; forwardedFor?: string | string[] } {
  if (transport === 'ws' && client.req) {
    const xff = client.req.headers['x-forwarded-for'];
    return { peer: client.req.socket.remoteAddress ?? '', ...(xff !== undefined ? { forwardedFor: xff } : {}) };
  }
  return { peer: (client.conn as { remoteAddress?: string }).remoteAddress ?? '' };
}

const joinHeader = (h: string | string[] | undefined): string | undefined => (Array.isArray(h) ? h.join(', ') : h);

/** Where a connection's ClientInfo lives: on the aedes Client itself (read on every message). */
const INFO = Symbol('keyport.clientInfo');
type WithInfo = { [INFO]?: ClientInfo };

export class KeyportBroker {
  readonly sessions = new Sessions();
  readonly published = new RateMeter();
  readonly delivered = new RateMeter();
  readonly #service: BrokerBackend;
  readonly #log: (line: string) => void;
  /** Lookups for the CONNECT checks, made once (not per CONNECT). */
  readonly #connectEnv: ConnectEnv;
  readonly limits: BrokerLimits;
  readonly #bounds: SubscribeBoundsLimits;
  readonly #wsMaxMessageBytes: number;
  readonly #onMessage: MessageSink | undefined;
  /** Losant's rates, bans, QoS 2 / retain / session handling; `losant.mode` switches it live. */
  readonly losant: LimitsHook;
  #closing = false;
  #unwatch: () => void = () => {};
  /** Closes the rate meters' one-second buckets. */
  readonly #rateTimer: NodeJS.Timeout;

  private constructor(
    readonly aedes: Aedes,
    opts: BrokerOptions,
  ) {
    this.#service = opts.service;
    this.#log = opts.log ?? ((l) => process.stderr.write(l + '\n'));
    this.limits = resolveBrokerLimits(opts.limits);
    this.#bounds = { maxFilters: this.limits.maxFiltersPerSubscribe, maxDecisions: this.limits.maxDecisionsPerPacket };
    this.#wsMaxMessageBytes = opts.wsMaxMessageBytes ?? 2 * this.limits.maxPacket;
    this.#onMessage = opts.onMessage;
    this.losant = new LimitsHook({
      ...(opts.limitsMode ? { mode: opts.limitsMode } : {}),
      ...(opts.now ? { now: opts.now } : {}),
      record: (client, action, d, topic) => this.#record(client, action, d, undefined, topic),
    });
    this.#rateTimer = setInterval(() => {
      this.published.tick();
      this.delivered.tick();
    }, 1000);
    this.#rateTimer.unref();
    const store = opts.service.store;
    this.#connectEnv = {
      pepper: opts.service.pepper,
      trustedProxies: opts.trustedProxies,
      getKeyByKey: (k) => store.getKeyByKey(k),
      getDevice: (id) => store.getDevice(id),
      listDevices: () => store.listDevices(),
    };
  }

  static async create(opts: BrokerOptions): Promise<KeyportBroker> {
    let self: KeyportBroker | undefined;
    const limits = resolveBrokerLimits(opts.limits); // fails before anything starts
    const aedes = await Aedes.createBroker({
      // Only a fallback: each connection's waitForDrain is replaced (slow-consumer.ts).
      drainTimeout: limits.drainTimeoutMs,
      // aedes refuses MQTT 3.1 client ids longer than 23 characters (CONNACK 2), but the client id
      // IS the device id (24 hex characters), so MQTT 3.1 devices could never connect.
      maxClientsIdLength: 65535,
      preConnect: (client, packet, cb) => self!.#preConnect(client, packet, cb),
      authenticate: (client, username, password, done) => self!.#authenticate(client, username, password, done),
      authorizePublish: (client, packet, cb) => self!.#authorizePublish(client, packet, cb),
      authorizeSubscribe: (client, sub, cb) => self!.#authorizeSubscribe(client, sub, cb),
      authorizeForward: (client, packet) => self!.#authorizeForward(client, packet),
      // aedes publishes $SYS heartbeats while it starts, before `self` exists.
      published: (packet, client, cb) => (self ? self.#published(packet, client, cb) : cb()),
    });
    self = new KeyportBroker(aedes, opts);
    aedes.on('clientDisconnect', (client) => self.#onDisconnect(client));
    aedes.on('clientError', (client, err) => self.#onClientError(client, err));
    aedes.on('connectionError', (client, err) => self.#onClientError(client, err));
    self.#unwatch = watchServiceChanges(opts.service, self.sessions, (s, reason) => self.#closeSession(s, reason));
    opts.service.telemetry.setPublisher((topic, payload) => self.publishAsPlatform(topic, payload));
    return self;
  }

  /** Give a new connection to the broker, remembering which listener it came from. */
  readonly handle = (stream: Duplex, req: IncomingMessage | undefined, transport: Transport): void => {
    const client = this.aedes.handle(stream, req);
    (client as WithInfo)[INFO] = { transport };
    const parser = parserOf(client);
    const framer = new WireFramer(this.limits, () => client.connected);
    installWireGuard(parser, framer, (v) => this.#onWireViolation(client, stream, v));
    guardSlowConsumer(client, stream, this.limits, (v) => this.#onSlow(client, stream, v));
    const bounds = this.#bounds;
    parser.prependListener('packet', (p) => {
      if (p.cmd === 'subscribe') tagSubscribe(p as { subscriptions?: Array<{ topic: string }> }, bounds);
      if (p.cmd === 'subscribe') this.losant.inboundSubscribe(p as { subscriptions?: Subscription[] });
    });
  };

  // The wire guard found an oversized or ill-formed packet: say so, then close at once.
  #onWireViolation(client: Client, stream: Duplex, v: WireViolation): void {
    this.#closeForWire(client, stream, wireDecision(v, client.connected));
  }

  #onSlow(client: Client, stream: Duplex, v: SlowVerdict): void {
    this.#closeForWire(client, stream, { action: 'deliver', reason: 'client.slow', rule: describeSlow(v) });
  }

  #closeForWire(client: Client, stream: Duplex, d: WireDecision): void {
    const info = this.#info(client);
    const s = info.session;
    const decision: Decision = { allowed: false, reason: d.reason, rule: d.rule };
    if (s) {
      if (!s.closingReason) {
        s.closingReason = d.reason;
        s.closingRule = d.rule;
      }
      if (d.action) this.#record(client, d.action, decision, d.topic !== undefined ? { topic: d.topic } : undefined);
    } else {
      const { peer, forwardedFor } = peerOf(client, info.transport);
      const xff = joinHeader(forwardedFor);
      this.#record(client, d.action ?? 'connect', decision, {
        // The id the CONNECT claimed, when aedes has read it (unauthenticated, like other refusals).
        ...(client.id ? { deviceId: client.id } : {}),
        sourceAddress: peer,
        ...(xff ? { forwardedFor: xff } : {}),
        ...(d.topic !== undefined ? { topic: d.topic } : {}),
      });
    }
    stream.destroy(); // no more bytes read from it
    client.close();
  }

  #info(client: Client): ClientInfo {
    return ((client as WithInfo)[INFO] ??= { transport: 'tcp' });
  }

  // Runs for every PUBLISH (and refused delivery): one object, no intermediate spreads.
  #record(
    client: Client,
    action: NewDecision['action'],
    d: Decision,
    extra?: Partial<NewDecision>,
    topic?: string,
  ): DecisionEvent {
    const info = this.#info(client);
    const s = info.session;
    if (s && topic !== undefined && extra === undefined && s.forwardedFor === undefined) {
      // The PUBLISH path: every field in one literal (the same keys, in the same order, as below),
      // so V8 allocates the event in one piece; the feed keeps 10,000 of them.
      const fast: DecisionEvent = {
        seq: 0,
        time: '',
        transport: info.transport,
        action,
        result: d.allowed ? 'allowed' : 'denied',
        reason: d.reason,
        rule: d.rule,
        deviceId: s.deviceId,
        keyId: s.keyId,
        sourceAddress: s.address,
        topic,
      };
      this.#service.feed.add(fast);
      return fast;
    }
    // Built in its final shape (seq and time first, filled in by the feed): no copy per event.
    const e: DecisionEvent = {
      seq: 0,
      time: '',
      transport: info.transport,
      action,
      result: d.allowed ? 'allowed' : 'denied',
      reason: d.reason,
      rule: d.rule,
    };
    if (s) {
      e.deviceId = s.deviceId;
      e.keyId = s.keyId;
      e.sourceAddress = s.address;
      if (s.forwardedFor) e.forwardedFor = s.forwardedFor;
    }
    if (extra) Object.assign(e, extra);
    if (topic !== undefined) e.topic = topic;
    this.#service.feed.add(e);
    return e;
  }

  // MQTT 5 is refused with CONNACK 1 by aedes itself; record why before it does [MQTT-3.1.2-2].
  #preConnect(client: Client, packet: ConnectPacket, cb: (err: Error | null, ok: boolean) => void): void {
    this.losant.preConnect(client, packet);
    const version = packet.protocolVersion ?? 4;
    if (version !== 3 && version !== 4) {
      const { peer, forwardedFor } = peerOf(client, this.#info(client).transport);
      this.#record(
        client,
        'connect',
        {
          allowed: false,
          reason: 'protocol.unsupported',
          rule: `MQTT protocol level ${version} is not supported (3.1 and 3.1.1 only)`,
        },
        {
          ...(packet.clientId ? { deviceId: packet.clientId } : {}),
          sourceAddress: peer,
          ...(forwardedFor ? { forwardedFor: joinHeader(forwardedFor) } : {}),
        },
      );
    }
    cb(null, true);
  }

  #authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (err: (Error & { returnCode: number }) | null, ok: boolean | null) => void,
  ): void {
    const info = this.#info(client);
    const { peer, forwardedFor } = peerOf(client, info.transport);
    const will = (client as unknown as { _will?: { topic?: string } })._will;
    const service = this.#service;
    const req: ConnectRequest = {
      transport: info.transport,
      protocolVersion: client.version,
      clientId: client.id,
      peerAddress: peer,
    };
    if (username !== undefined) req.username = username;
    if (password !== undefined) req.password = password.toString('utf8');
    if (forwardedFor !== undefined) req.forwardedFor = forwardedFor;
    if (will?.topic !== undefined) req.willTopic = will.topic;
    const outcome = this.losant.admit(client, evaluateConnect(req, this.#connectEnv));
    const xff = joinHeader(forwardedFor);
    this.#record(client, 'connect', outcome.decision, {
      ...(client.id ? { deviceId: client.id } : {}),
      ...(outcome.key ? { keyId: outcome.key.id } : {}),
      sourceAddress: outcome.address ?? peer,
      ...(xff ? { forwardedFor: xff } : {}),
    });
    if (outcome.returnCode !== 0 || !outcome.key || !outcome.device || !outcome.scope) {
      const err = Object.assign(new Error(outcome.decision.reason), { returnCode: outcome.returnCode });
      return done(err, false);
    }
    const previous = this.sessions.forDevice(outcome.device.id);
    if (previous) previous.closingReason = 'session.taken-over';
    const session: LiveSession = {
      deviceId: outcome.device.id,
      keyId: outcome.key.id,
      scope: outcome.scope,
      transport: info.transport,
      address: outcome.address ?? peer,
      ...(xff ? { forwardedFor: xff } : {}),
      connectedAt: new Date().toISOString(),
      messagesFromClient: 0,
      messagesToClient: 0,
      scopeChangedSinceConnect: false,
      close: () => client.close(),
    };
    info.session = session;
    info.view = this.#makeView(session);
    this.sessions.add(session);
    this.#persistStatus(session, 'connected');
    void service.keys
      .touch(outcome.key.id)
      .catch((e: unknown) => this.#log(`keyport: could not record key use: ${(e as Error).message}`));
    done(null, true);
  }

  #makeView(s: LiveSession): SessionView {
    const store = this.#service.store;
    const keyId = s.keyId;
    return {
      deviceId: s.deviceId,
      scope: s.scope,
      // The key as it is NOW: rule edits apply to the next message.
      get rules(): TopicRules {
        return store.getKey(keyId) ?? NO_RULES;
      },
      getDevice: (id) => store.getDevice(id),
    };
  }

  #authorizePublish(client: Client | null, packet: PublishPacket, cb: (err?: Error | null) => void): void {
    if (!client) return cb(null); // the platform itself (commands from the UI/API)
    const info = this.#info(client);
    const s = info.session;
    const view = info.view;
    if (!s || !view) return cb(new Error('not authenticated'));
    // A last will of a connection the broker closed because its key or device went away is not
    // published: that key no longer speaks for anyone.
    if (client.closed && s.closingReason && REVOKED.has(s.closingReason)) return cb(new Error(s.closingReason));
    const limited = this.losant.publish(client, s, packet);
    if (limited) return cb(limited);
    const d = publishDecision(view, packet.topic);
    const event = this.#record(client, 'publish', d, undefined, packet.topic);
    if (d.allowed) {
      // A state report is stored now, before aedes sends the PUBACK [MQTT-4.3.2-2] and whatever
      // its delivery does (service/telemetry.ts acceptReport). One the store refuses (it is
      // closing) is not acknowledged: the client sends it again to whoever runs next.
      if (!this.#acceptState(client, packet)) return cb(new Error('the store is closed'));
      this.#tap(packet, s, info.transport, event, true);
      return cb(null);
    }
    this.#tap(packet, s, info.transport, event, false);
    // MQTT 3.1.1 has no negative PUBACK: a denied PUBLISH closes the connection. aedes also asks
    // here for the last will while it is already closing the client; a refused will must not
    // overwrite why that connection is closing (key.deleted, connection.lost, ...).
    if (!client.closed) s.closingReason = 'publish.denied';
    cb(new Error(d.reason));
  }

  #authorizeSubscribe(
    client: Client,
    sub: Subscription,
    cb: (err: Error | null, sub?: Subscription | null) => void,
  ): void {
    const view = this.#info(client).view;
    if (!view) return cb(new Error('not authenticated'));
    const batch = batchOf(sub);
    if (batch?.over) {
      // One decision for the whole packet; every filter gets SUBACK 0x80 (subscribe-bounds.ts).
      if (batch.seen++ === 0) {
        const rule = tooManyFiltersRule(batch, this.#bounds);
        this.#record(client, 'subscribe', { allowed: false, reason: 'subscribe.too-many-filters', rule });
      }
      return cb(null, null);
    }
    const d = subscribeDecision(view, sub.topic);
    const step = batch ? stepBatch(batch, this.#bounds, d) : undefined;
    if (!step || step.record) this.#record(client, 'subscribe', d, undefined, sub.topic);
    else if (step.summary !== undefined && batch) {
      const refused = summaryRefused(batch);
      this.#record(client, 'subscribe', {
        allowed: !refused,
        reason: 'decisions.summarised',
        rule: step.summary,
      });
    }
    if (d.allowed) this.losant.subscribe(client, sub);
    cb(null, d.allowed ? sub : null); // null -> SUBACK 0x80 for this filter only
  }

  // Every delivery is re-checked against the key as it is now, retained messages included.
  #authorizeForward(client: Client, packet: AedesPublishPacket): AedesPublishPacket | null {
    const info = this.#info(client);
    const s = info.session;
    const view = info.view;
    if (!s || !view) return null;
    if (!deliverAllowed(view, packet.topic)) {
      this.#record(client, 'deliver', deliverDecision(view, packet.topic), undefined, packet.topic);
      return null;
    }
    if (!this.losant.forward(client, s, packet)) return null;
    s.messagesToClient++;
    this.delivered.add();
    return withDeliveryQos(client, packet);
  }

  /** Tells the message sink about a client's PUBLISH and the decision on it. */
  #tap(packet: PublishPacket, s: LiveSession, transport: Transport, decision: DecisionEvent, delivered: boolean): void {
    const sink = this.#onMessage;
    if (!sink) return;
    sink({
      topic: packet.topic,
      payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
      qos: packet.qos,
      retain: packet.retain,
      origin: 'device',
      deviceId: s.deviceId,
      keyId: s.keyId,
      transport,
      decision,
      delivered,
    });
  }

  #published(packet: AedesPublishPacket, client: Client | null, cb: (err?: Error | null) => void): void {
    cb();
    const s = client ? this.#info(client).session : undefined;
    if (client && !s) return;
    if (s) s.messagesFromClient++;
    this.published.add();
    if (packet.topic.startsWith('$')) return;
    // A client's PUBLISH was told to the sink when it was decided (#tap); the platform's here.
    if (!client && this.#onMessage) {
      this.#onMessage({
        topic: packet.topic,
        payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
        qos: packet.qos,
        retain: packet.retain,
        origin: 'platform',
        delivered: true,
      });
    }
    const c = classifyTopic(packet.topic);
    // State reports were stored when authorised (#acceptState), not here behind delivery.
    if (c.kind !== 'device' || c.channel !== 'command') return;
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const parsed = parseCommand(payload, new Date());
    if (parsed.ok) this.#service.telemetry.recordCommand(c.deviceId, parsed.command);
  }

  /** Stores an authorised state report; false when the store refused it. */
  #acceptState(client: Client, packet: PublishPacket): boolean {
    const c = classifyTopic(packet.topic);
    if (c.kind !== 'device' || c.channel !== 'state') return true;
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const intake = this.#service.telemetry.acceptReport(c.deviceId, payload);
    if (!intake.decision.allowed) this.#record(client, 'state', intake.decision, undefined, packet.topic);
    intake.durable.catch((e: unknown) =>
      this.#log(`keyport: could not store state for ${c.deviceId}: ${(e as Error).message}`),
    );
    return intake.stored || !intake.decision.allowed;
  }

  #onDisconnect(client: Client): void {
    const s = this.#info(client).session;
    if (!s) return;
    const clean = (client as unknown as { _disconnected?: boolean })._disconnected === true;
    const reason: ReasonCode =
      s.closingReason ?? (this.#closing ? 'broker.shutdown' : clean ? 'client.disconnect' : 'connection.lost');
    this.#record(client, 'disconnect', {
      allowed: !POLICY_CLOSES.has(reason),
      reason,
      rule: s.closingRule ?? reasonText(reason),
    });
    this.sessions.remove(s);
    if (!this.sessions.forDevice(s.deviceId)) this.#persistStatus(s, 'disconnected', reason);
  }

  #onClientError(client: Client, err: Error): void {
    // ws refused a frame over the listener's limit from its header (before buffering it).
    if ((err as { code?: unknown }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      const conn = client.conn as unknown as Duplex;
      return this.#closeForWire(client, conn, wsTooLargeDecision(this.#wsMaxMessageBytes, client.connected));
    }
    const s = this.#info(client).session;
    if (s && !s.closingReason && /parse|invalid|malformed|unknown/i.test(err.message)) {
      this.#log(`keyport: malformed MQTT packet from device ${s.deviceId}: ${err.message}`);
    }
  }

  #closeSession(s: LiveSession, reason: ReasonCode): void {
    s.closingReason = reason;
    s.close();
  }

  #persistStatus(s: LiveSession, status: 'connected' | 'disconnected', reason?: ReasonCode): void {
    const now = new Date().toISOString();
    const prev = this.#service.store.getDevice(s.deviceId)?.connectionStatus;
    void this.#service.devices
      .setConnectionStatus(s.deviceId, {
        status,
        connectedAt: s.connectedAt,
        ...(status === 'disconnected'
          ? { disconnectedAt: now, ...(reason ? { disconnectReason: reason } : {}) }
          : prev?.disconnectedAt
            ? { disconnectedAt: prev.disconnectedAt }
            : {}),
        ipAddress: s.address,
        transport: s.transport,
        messagesFromClient: s.messagesFromClient,
        messagesToClient: s.messagesToClient,
        ...(s.scopeChangedSinceConnect ? { scopeChangedSinceConnect: true } : {}),
      })
      .catch((e: unknown) => this.#log(`keyport: could not record connection status: ${(e as Error).message}`));
  }

  status(listeners: ListenerInfo | null): BrokerStatus {
    const store = this.#service.store;
    return {
      listeners,
      clients: this.sessions.all().map((s) => ({
        deviceId: s.deviceId,
        deviceName: store.getDevice(s.deviceId)?.name ?? s.deviceId,
        keyId: s.keyId,
        transport: s.transport,
        address: s.address,
        connectedAt: s.connectedAt,
        messagesFromClient: s.messagesFromClient,
        messagesToClient: s.messagesToClient,
        scopeChangedSinceConnect: s.scopeChangedSinceConnect,
      })),
      rate: { published: this.published.perSecond(), delivered: this.delivered.perSecond() },
      totals: { published: this.published.total, delivered: this.delivered.total, decisions: this.#service.feed.size },
      limits: this.losant.info(),
    };
  }

  /** Publish as the platform (not as a device): commands from the UI and the HTTP API, the Messages view. */
  publishAsPlatform(
    topic: string,
    payload: string | Buffer,
    opts: { qos?: 0 | 1; retain?: boolean } = {},
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      this.aedes.publish(
        {
          cmd: 'publish',
          topic,
          payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload),
          qos: opts.qos ?? 0,
          retain: opts.retain ?? false,
          dup: false,
        },
        (err) => (err ? reject(err) : resolve()),
      );
    });
  }

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearInterval(this.#rateTimer);
    this.#unwatch();
    this.#service.telemetry.setPublisher(null);
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
  }
}

export function reasonText(reason: ReasonCode): string {
  switch (reason) {
    case 'client.disconnect':
      return 'the client sent DISCONNECT';
    case 'connection.lost':
      return 'the connection closed without DISCONNECT';
    case 'session.taken-over':
      return 'another connection with the same device id took over';
    case 'key.inactive':
      return 'the access key was set to inactive';
    case 'key.deleted':
      return 'the access key was deleted';
    case 'device.unknown':
      return 'the device was deleted';
    case 'publish.denied':
      return 'closed after a denied PUBLISH (MQTT 3.1.1 has no negative PUBACK)';
    case 'broker.shutdown':
      return 'the broker is shutting down';
    case 'topic.invalid':
      return 'closed after a topic or filter that is not well-formed UTF-8 [MQTT-1.5.3-1]';
    case 'packet.too-large':
      return 'closed: a packet before login was larger than the pre-CONNECT limit';
    case 'payload.too-large':
      return 'closed: a packet was larger than the limit (--max-packet)';
    case 'client.slow':
      return 'closed: the client stopped reading (outgoing queue or drain timeout exceeded)';
    default:
      return reason;
  }
}

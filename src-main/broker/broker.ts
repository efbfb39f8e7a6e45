// The embedded aedes broker: creates aedes with Keyport's hooks and hands each new connection
// the wire guard and slow-consumer bound. The hooks only translate core decisions into MQTT
// outcomes (connect-hooks.ts, pubsub-hooks.ts, client-lifecycle.ts); policy lives in
// src-main/core, and the application is reached only through the ports of shared/ports.ts.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Aedes, type Subscription } from 'aedes';
import type { Transport } from '../core/types.ts';
import type { LimitsMode } from '../core/limits.ts';
import type { MessageSink } from './message-sink.ts';
import type { BrokerStatus, ListenerInfo } from '../contract.ts';
import type { BrokerPorts } from '../shared/ports.ts';
import { ackAfterPublish } from './ack-after-publish.ts';
import {
  clientOfParser,
  hookParser,
  parserOf,
  streamOf,
  type PacketParser,
  type ParserHooks,
} from './aedes-internals.ts';
import { brokerErrors } from './broker-errors.ts';
import { resolveBrokerLimits, type BrokerLimits } from './broker-limits.ts';
import { setClientInfo } from './client-info.ts';
import {
  closeSession,
  onClientError,
  onDisconnect,
  onMalformedPacket,
  onSlow,
  onWireViolation,
} from './client-lifecycle.ts';
import type { BrokerEngine } from './cluster-engine.ts';
import { authenticate, preConnect } from './connect-hooks.ts';
import { decisionRecorder } from './decision-recorder.ts';
import type { HookContext } from './hook-context.ts';
import { LimitsHook } from './losant-limits.ts';
import { authorizeForward, authorizePublish, authorizeSubscribe, published } from './pubsub-hooks.ts';
import { RateMeter } from './rate-meter.ts';
import { Sessions } from './sessions.ts';
import { guardSlowConsumer, type SlowReporter } from './slow-consumer.ts';
import { tagSubscribe } from './subscribe-bounds.ts';
import { installWireGuard, WireFramer, type WireViolation } from './wire-guard.ts';

export interface BrokerOptions {
  /** The application as the broker sees it (KeyportService.ports builds them). */
  ports: BrokerPorts;
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
  /** Cluster mode (cluster-engine.ts): aedes' id, emitter and persistence; absent, aedes' in-memory ones. */
  engine?: BrokerEngine;
}

export class KeyportBroker {
  readonly sessions = new Sessions();
  readonly published = new RateMeter();
  readonly delivered = new RateMeter();
  readonly limits: BrokerLimits;
  /** Losant's rates, bans, QoS 2 / retain / session handling; `losant.mode` switches it live. */
  readonly losant: LimitsHook;
  readonly #ports: BrokerPorts;
  readonly #ctx: HookContext;
  #closing = false;
  #unwatch: () => void = () => {};
  /** Closes the rate meters' one-second buckets. */
  readonly #rateTimer: NodeJS.Timeout;

  private constructor(
    readonly aedes: Aedes,
    opts: BrokerOptions,
  ) {
    this.#ports = opts.ports;
    this.limits = resolveBrokerLimits(opts.limits);
    const record = decisionRecorder(opts.ports.decisions);
    this.losant = new LimitsHook({
      ...(opts.limitsMode ? { mode: opts.limitsMode } : {}),
      ...(opts.now ? { now: opts.now } : {}),
      record: (client, action, d, topic) => record(client, action, d, undefined, topic),
    });
    this.#ctx = {
      ports: opts.ports,
      log: opts.log ?? ((l) => process.stderr.write(l + '\n')),
      sessions: this.sessions,
      losant: this.losant,
      limits: this.limits,
      bounds: { maxFilters: this.limits.maxFiltersPerSubscribe, maxDecisions: this.limits.maxDecisionsPerPacket },
      published: this.published,
      delivered: this.delivered,
      wsMaxMessageBytes: opts.wsMaxMessageBytes ?? 2 * this.limits.maxPacket,
      record,
      onMessage: opts.onMessage,
      closing: () => this.#closing,
    };
    this.#rateTimer = setInterval(() => {
      this.published.tick();
      this.delivered.tick();
    }, 1000);
    this.#rateTimer.unref();
  }

  static async create(opts: BrokerOptions): Promise<KeyportBroker> {
    let ctx: HookContext | undefined;
    /** Cluster mode: a QoS 1 PUBACK only once the message is in Redis (ack-after-publish.ts). */
    let afterPublish: ReturnType<typeof ackAfterPublish> | undefined;
    const limits = resolveBrokerLimits(opts.limits); // fails before anything starts
    const aedes = await Aedes.createBroker({
      // Only a fallback: each connection's waitForDrain is replaced (slow-consumer.ts).
      drainTimeout: limits.drainTimeoutMs,
      // aedes refuses MQTT 3.1 client ids longer than 23 characters (CONNACK 2), but the client id
      // IS the device id (24 hex characters), so MQTT 3.1 devices could never connect.
      maxClientsIdLength: 65535,
      preConnect: (client, packet, cb) => preConnect(ctx!, client, packet, cb),
      authenticate: (client, username, password, done) => authenticate(ctx!, client, username, password, done),
      authorizePublish: (client, packet, cb) =>
        authorizePublish(ctx!, client, packet, afterPublish ? afterPublish(client, packet, cb) : cb),
      authorizeSubscribe: (client, sub, cb) => authorizeSubscribe(ctx!, client, sub, cb),
      authorizeForward: (client, packet) => authorizeForward(ctx!, client, packet),
      // aedes publishes $SYS heartbeats while it starts, before the context exists.
      published: (packet, client, cb) => (ctx ? published(ctx, packet, client, cb) : cb()),
      ...(opts.engine ? { id: opts.engine.id, mq: opts.engine.mq, persistence: opts.engine.persistence } : {}),
    });
    if (opts.engine) afterPublish = ackAfterPublish(aedes);
    const self = new KeyportBroker(aedes, opts);
    ctx = self.#ctx;
    const c = ctx;
    aedes.on('clientDisconnect', (client) => onDisconnect(c, client));
    aedes.on('clientError', (client, err) => onClientError(c, client, err));
    aedes.on('connectionError', (client, err) => onClientError(c, client, err));
    // aedes.js emits 'error' on the broker (broker-errors.ts); its .d.ts does not list the event.
    (aedes as unknown as NodeJS.EventEmitter).on(
      'error',
      brokerErrors(c.log, () => self.#closing),
    );
    const sessions = self.sessions;
    // The same device connected on another node: aedes closes it here next; say why, as a local
    // takeover does (connect-hooks.ts).
    opts.engine?.onRemoteConnect((clientId) => {
      const s = sessions.forDevice(clientId);
      if (s && !s.closingReason) s.closingReason = 'session.taken-over';
    });
    self.#unwatch = opts.ports.auth.watchSessions({
      forKey: (id) => sessions.forKey(id),
      forDevice: (id) => sessions.forDevice(id),
      close: closeSession,
    });
    opts.ports.telemetry.setPublisher((topic, payload) => self.publishAsPlatform(topic, payload));
    return self;
  }

  /** The wire guard's reporter, shared by every connection (the parser names its client). */
  readonly #onWireViolation = (v: WireViolation, parser: object): void => {
    const client = clientOfParser(parser);
    onWireViolation(this.#ctx, client, streamOf(client), v);
  };

  /** One reporter for every connection (slow-consumer.ts keeps no closure per connection). */
  readonly #onSlow: SlowReporter = (client, stream, v) => onSlow(this.#ctx, client, stream, v);

  /** Give a new connection to the broker, remembering which listener it came from. */
  readonly handle = (stream: Duplex, req: IncomingMessage | undefined, transport: Transport): void => {
    const client = this.aedes.handle(stream, req);
    setClientInfo(client, { transport });
    const parser = parserOf(client);
    installWireGuard(parser, new WireFramer(this.limits, client), this.#onWireViolation);
    guardSlowConsumer(client, stream, this.limits, this.#onSlow);
    hookParser(parser, this.#parserHooks);
  };

  // The parser's hooks, shared by every connection: mqtt-packet calls them with `this` = the
  // parser, whose client aedes set (aedes-internals.ts clientOfParser).
  readonly #parserHooks: ParserHooks = ((broker: KeyportBroker) => ({
    error: function onParserError(this: PacketParser, err: Error): void {
      onMalformedPacket(broker.#ctx, clientOfParser(this), err);
    },
    packet: function onPacket(this: PacketParser, p: { cmd: string }): void {
      if (p.cmd !== 'subscribe') return;
      tagSubscribe(p as { subscriptions?: Array<{ topic: string }> }, broker.#ctx.bounds);
      broker.losant.inboundSubscribe(p as { subscriptions?: Subscription[] });
    },
  }))(this);

  status(listeners: ListenerInfo | null): BrokerStatus {
    const auth = this.#ports.auth;
    return {
      listeners,
      clients: this.sessions.all().map((s) => ({
        deviceId: s.deviceId,
        deviceName: auth.device(s.deviceId)?.name ?? s.deviceId,
        keyId: s.keyId,
        transport: s.transport,
        address: s.address,
        connectedAt: s.connectedAt,
        messagesFromClient: s.messagesFromClient,
        messagesToClient: s.messagesToClient,
        scopeChangedSinceConnect: s.scopeChangedSinceConnect,
      })),
      rate: { published: this.published.perSecond(), delivered: this.delivered.perSecond() },
      totals: {
        published: this.published.total,
        delivered: this.delivered.total,
        decisions: this.#ports.decisions.size,
      },
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
    this.#ports.telemetry.setPublisher(null);
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
  }
}

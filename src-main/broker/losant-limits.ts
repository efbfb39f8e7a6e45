// Losant limits mode in the broker (issue 14 item 3): applies core/limits.ts at CONNECT, PUBLISH,
// SUBSCRIBE and delivery, and handles what Losant's broker lacks (QoS 2, retained messages,
// persistent sessions). The broker's hooks (connect-hooks.ts, pubsub-hooks.ts) call one method
// per hook; everything else is here.
//
// Sources: https://docs.losant.com/references/message-throttling (rates, bans, 256KB; the size cap
// is broker-limits.ts' maxPacket, reason payload.too-large, and is not repeated here) and
// https://docs.losant.com/mqtt/overview (the broker Keyport copies). What the wire does where those
// pages are silent is Keyport's choice, listed in README "Differences from Losant":
//   - QoS 2 PUBLISH: closed with qos.unsupported (MQTT 3.1.1 has no negative acknowledgement and a
//     QoS 2 exchange cannot be answered as QoS 1);
//   - QoS 2 SUBSCRIBE: granted at QoS 1 ("The Server might grant a lower maximum QoS than the
//     subscriber requested" [MQTT-3.9.3]), recorded as qos.unsupported (allowed);
//   - RETAIN 1: delivered to current subscribers, not stored, recorded as retain.unsupported;
//   - CleanSession 0: treated as 1 (CONNACK session present 0 [MQTT-3.2.2-1]), the connect
//     decision is session.unsupported (allowed).
import type { AedesPublishPacket, Client, ConnectPacket, PublishPacket, Subscription } from 'aedes';
import type { ConnectOutcome } from '../core/connect.ts';
import {
  ApplicationLimits,
  ConnectionMeter,
  LOSANT_LIMITS,
  banRule,
  type Ban,
  type LimitsMode,
  type LosantLimits,
} from '../core/limits.ts';
import { allow, deny, type Decision, type ReasonCode } from '../core/types.ts';
import type { LiveSession } from './sessions.ts';
import type { LimitsInfo } from '../contract.ts';
import type { LimitsPeers } from '../shared/ports.ts';

export type LimitsAction = 'connect' | 'publish' | 'subscribe' | 'deliver';
export type RecordLimit = (client: Client, action: LimitsAction, d: Decision, topic?: string) => void;

/** Closes by this module: policy closes (result "denied" in the disconnect decision). */
export const LIMIT_CLOSES: readonly ReasonCode[] = ['limit.topic-rate', 'limit.connection-rate', 'qos.unsupported'];

export interface LimitsHookOptions {
  mode?: LimitsMode;
  /** The clock (ms). Tests pass one they advance, so a 30 s ban needs no 30 s wait. */
  now?: () => number;
  limits?: LosantLimits;
  record: RecordLimit;
}

const METER = Symbol('keyport.losantMeter');
const CLEAN_FORCED = Symbol('keyport.cleanForced');
const DOWNGRADED = Symbol('keyport.qosDowngraded');
type Marked = { [METER]?: ConnectionMeter; [CLEAN_FORCED]?: boolean };
type Downgraded = { [DOWNGRADED]?: boolean };

export class LimitsHook {
  #mode: LimitsMode;
  readonly #now: () => number;
  readonly #limits: LosantLimits;
  readonly #record: RecordLimit;
  readonly app: ApplicationLimits;
  /** The other cluster nodes (shared/ports.ts LimitsPeers); null on a single node. */
  peers: LimitsPeers | null = null;

  constructor(opts: LimitsHookOptions) {
    this.#mode = opts.mode ?? 'losant';
    this.#now = opts.now ?? Date.now;
    this.#limits = opts.limits ?? LOSANT_LIMITS;
    this.#record = opts.record;
    this.app = new ApplicationLimits(this.#limits);
  }

  get mode(): LimitsMode {
    return this.#mode;
  }

  /** Applied live: switching off lifts every ban; connections carry on under the new mode. */
  set mode(m: LimitsMode) {
    if (m === 'off') this.app.clear();
    this.#mode = m;
  }

  get on(): boolean {
    return this.#mode === 'losant';
  }

  now(): number {
    return this.#now();
  }

  bans(): Array<Ban & { deviceId: string }> {
    return this.app.activeBans(this.#now());
  }

  /** The mode and the bans in force, for the Broker view. */
  info(): LimitsInfo {
    const now = this.#now();
    return {
      mode: this.#mode,
      bans: this.app.activeBans(now).map((b) => ({
        deviceId: b.deviceId,
        level: b.level,
        until: new Date(b.until).toISOString(),
        remainingMs: b.until - now,
      })),
    };
  }

  /** Before aedes reads the CONNECT: a persistent session request becomes a clean one. */
  preConnect(client: Client, packet: ConnectPacket): void {
    if (!this.on || packet.clean !== false) return;
    packet.clean = true;
    (client as Marked)[CLEAN_FORCED] = true;
  }

  /** After the credentials were checked: bans and the application's connection rate. */
  admit(client: Client, outcome: ConnectOutcome): ConnectOutcome {
    if (!this.on || outcome.returnCode !== 0 || !outcome.device) return outcome;
    const now = this.#now();
    const refusal = this.app.admit(outcome.device.id, now, this.peers?.connectsElsewhere(now) ?? 0);
    if (refusal) {
      // CONNACK 5 (not authorised) while banned; 3 (server unavailable) when the application is
      // over its connection rate: the device did nothing wrong, the platform is busy.
      const returnCode = refusal.reason === 'limit.banned' ? 5 : 3;
      return { decision: refusal, returnCode, ...(outcome.address ? { address: outcome.address } : {}) };
    }
    (client as Marked)[METER] = new ConnectionMeter(this.#limits);
    if ((client as Marked)[CLEAN_FORCED])
      return {
        ...outcome,
        decision: allow(
          'session.unsupported',
          `connected with CleanSession 0, treated as 1: Losant keeps no persistent sessions (CONNACK session present 0); ${outcome.decision.rule}`,
        ),
      };
    return outcome;
  }

  /** A PUBLISH from a device. An Error closes the connection (after the decision is recorded). */
  publish(client: Client, s: LiveSession, packet: PublishPacket): Error | null {
    if (!this.on) return null;
    if (packet.retain) {
      packet.retain = false; // aedes stores retained messages after authorisation
      this.#record(
        client,
        'publish',
        allow(
          'retain.unsupported',
          'RETAIN flag ignored: Losant keeps no retained messages; delivered to current subscribers only',
        ),
        packet.topic,
      );
    }
    if (client.closed) {
      // The last will, published as the connection goes: not counted, never QoS 2.
      if (packet.qos === 2) packet.qos = 1;
      return null;
    }
    if (packet.qos === 2)
      return this.#close(
        client,
        s,
        'publish',
        packet.topic,
        deny('qos.unsupported', 'QoS 2 PUBLISH: Losant supports QoS 0 and 1'),
      );
    const meter = (client as Marked)[METER];
    const d = meter?.message('in', packet.topic, this.#now());
    return d ? this.#close(client, s, 'publish', packet.topic, d, true) : null;
  }

  /** A SUBSCRIBE as parsed, before aedes reads the requested QoS it will grant: QoS 2 becomes 1. */
  inboundSubscribe(p: { subscriptions?: Subscription[] }): void {
    if (!this.on) return;
    for (const sub of p.subscriptions ?? [])
      if (sub.qos === 2) {
        sub.qos = 1;
        (sub as Downgraded)[DOWNGRADED] = true;
      }
  }

  /** An allowed SUBSCRIBE filter that asked for QoS 2: say it was granted QoS 1. */
  subscribe(client: Client, sub: Subscription): void {
    if (!(sub as Downgraded)[DOWNGRADED]) return;
    this.#record(
      client,
      'subscribe',
      allow('qos.unsupported', 'QoS 2 requested, granted QoS 1: Losant supports QoS 0 and 1'),
      sub.topic,
    );
  }

  /** A delivery to a device: counted outgoing; false (and the connection closing) past a limit. */
  forward(client: Client, s: LiveSession, packet: AedesPublishPacket): boolean {
    if (!this.on || client.closed) return true;
    const d = (client as Marked)[METER]?.message('out', packet.topic, this.#now());
    if (!d) return true;
    this.#close(client, s, 'deliver', packet.topic, d, true);
    queueMicrotask(() => s.close()); // not from inside aedes' delivery loop
    return false;
  }

  #close(client: Client, s: LiveSession, action: LimitsAction, topic: string, d: Decision, ban = false): Error {
    let rule = d.rule;
    if (ban) {
      const now = this.#now();
      const imposed = this.app.ban(s.deviceId, now);
      this.peers?.banned(s.deviceId, imposed);
      rule = `${rule}; ${banRule(imposed, now)}`;
    }
    const decision = { ...d, rule };
    this.#record(client, action, decision, topic);
    if (!s.closingReason) {
      s.closingReason = d.reason;
      s.closingRule = rule;
    }
    return new Error(d.reason);
  }
}

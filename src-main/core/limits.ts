// Losant's broker limits (issue 14 item 3), as pure bookkeeping: sliding windows per topic and
// direction, per connection and per application, and the escalating ban of a device that broke
// one. Time is always passed in (ms); nothing here owns a timer. The broker hook that applies
// the outcomes is src-main/broker/losant-limits.ts.
//
// Source: https://docs.losant.com/references/message-throttling
//   - "30 messages in a 15-second window per topic"; custom topics are counted "individually per
//     direction" (incoming and outgoing apart);
//   - "300 messages in a 15-second window per client connection";
//   - "300 new device connections in a 15-second window per application";
//   - "256KB per message" (the post-CONNECT packet cap, broker-limits.ts, `payload.too-large`);
//   - past a message rate limit the device "is automatically disconnected, and will not be allowed
//     to connect back to the broker for 30 seconds"; repeats lengthen that "up to a maximum of
//     one hour".
// The page gives no steps between 30 s and 1 h: Keyport doubles (BAN_STEPS_MS) and forgets a
// device's repeats after BAN_MEMORY_MS without a new ban (its own choice, README "Limits").
import { deny, type Decision } from './types.ts';

export const LIMITS_MODES = ['losant', 'off'] as const;
export type LimitsMode = (typeof LIMITS_MODES)[number];

export interface LosantLimits {
  windowMs: number;
  perTopic: number;
  perConnection: number;
  connectsPerApplication: number;
}

export const LOSANT_LIMITS: Readonly<LosantLimits> = Object.freeze({
  windowMs: 15_000,
  perTopic: 30,
  perConnection: 300,
  connectsPerApplication: 300,
});

/** Ban lengths by level (1-based: level 1 = the first ban): 30 s doubling, capped at 1 h. */
export const BAN_STEPS_MS: readonly number[] = Object.freeze([
  30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000,
]);
/** A device with no new ban for this long after its last one ended starts again at level 1. */
export const BAN_MEMORY_MS = 3_600_000;

export type Direction = 'in' | 'out';

/**
 * The last `limit` event times in a ring. The (limit+1)th event inside one window is the one that
 * breaks the limit: O(1) per event, memory bounded by the limit.
 */
export class SlidingWindow {
  readonly #times: Float64Array;
  #next = 0;
  #count = 0;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {
    this.#times = new Float64Array(limit);
  }

  /** Records an event at `now`; limit+1 when it is one too many (then it is not recorded), else at most the limit. */
  hit(now: number): number {
    const oldest = this.#times[this.#next] ?? 0;
    const full = this.#count === this.limit;
    if (full && now - oldest < this.windowMs) return this.limit + 1; // not recorded: it is refused
    this.#times[this.#next] = now;
    this.#next = (this.#next + 1) % this.limit;
    if (!full) this.#count++;
    return this.#count; // at most the limit: the exact count only matters once it is exceeded
  }

  /** Events inside (now - windowMs, now]. */
  inWindow(now: number): number {
    let n = 0;
    for (let i = 0; i < this.#count; i++) if (now - (this.#times[i] ?? 0) < this.windowMs) n++;
    return n;
  }

  /** The newest event time, or -Infinity. */
  newest(): number {
    if (this.#count === 0) return -Infinity;
    return this.#times[(this.#next + this.limit - 1) % this.limit] ?? -Infinity;
  }
}

const seconds = (ms: number): string => `${Math.round(ms / 1000)} s`;
/** "30 s", "2 min", "1 h": how a ban length or a remaining time is named in rules. */
export function describeDuration(ms: number): string {
  const s = Math.ceil(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 3600) return `${Math.ceil(s / 60)} min`;
  return `${Math.round((s / 3600) * 10) / 10} h`;
}

/** One connection's message windows: per topic and direction, and for the connection. */
export class ConnectionMeter {
  readonly #topics = new Map<string, SlidingWindow>();
  readonly #all: SlidingWindow;

  constructor(readonly limits: LosantLimits = LOSANT_LIMITS) {
    this.#all = new SlidingWindow(limits.perConnection, limits.windowMs);
  }

  /** Counts one message; a Decision when it breaks a limit, otherwise null. */
  message(direction: Direction, topic: string, now: number): Decision | null {
    const key = `${direction} ${topic}`;
    let w = this.#topics.get(key);
    if (!w) {
      if (this.#topics.size >= 1024) this.#prune(now);
      this.#topics.set(key, (w = new SlidingWindow(this.limits.perTopic, this.limits.windowMs)));
    }
    const window = seconds(this.limits.windowMs);
    const way = direction === 'in' ? 'from the device' : 'to the device';
    const onTopic = w.hit(now);
    if (onTopic > this.limits.perTopic)
      return deny(
        'limit.topic-rate',
        `${onTopic} messages in ${window} on ${topic} (${way}), limit ${this.limits.perTopic} per topic and direction`,
      );
    const onConn = this.#all.hit(now);
    if (onConn > this.limits.perConnection)
      return deny(
        'limit.connection-rate',
        `${onConn} messages in ${window} on this connection, limit ${this.limits.perConnection} per connection`,
      );
    return null;
  }

  /** Topics tracked now (for tests of the pruning bound). */
  get trackedTopics(): number {
    return this.#topics.size;
  }

  #prune(now: number): void {
    for (const [k, w] of this.#topics) if (now - w.newest() >= this.limits.windowMs) this.#topics.delete(k);
  }
}

export interface Ban {
  level: number;
  until: number;
}

interface BanRecord extends Ban {
  /** When the device's repeats are forgotten (until + BAN_MEMORY_MS). */
  forgetAt: number;
}

/** The application's CONNECT window and the devices banned from connecting. */
export class ApplicationLimits {
  readonly #connects: SlidingWindow;
  readonly #bans = new Map<string, BanRecord>();

  constructor(readonly limits: LosantLimits = LOSANT_LIMITS) {
    this.#connects = new SlidingWindow(limits.connectsPerApplication, limits.windowMs);
  }

  /**
   * A device that presented valid credentials asks to connect. A Decision (CONNACK refusal)
   * when it is banned or the application is over its connection rate; null when admitted
   * (and counted).
   */
  admit(deviceId: string, now: number, elsewhere = 0): Decision | null {
    const ban = this.banOf(deviceId, now);
    if (ban)
      return deny(
        'limit.banned',
        `device banned for ${describeDuration(ban.until - now)} more (ban level ${ban.level}, ${describeDuration(BAN_STEPS_MS[ban.level - 1] ?? 0)}) after breaking a message rate limit`,
      );
    // Clustered (docs/design.md §7a): `elsewhere` is what the other nodes admitted in their
    // windows; the application's limit is on the sum. A refused CONNECT is not counted.
    if (elsewhere > 0) {
      const total = this.#connects.inWindow(now) + elsewhere;
      if (total >= this.limits.connectsPerApplication)
        return deny(
          'limit.connect-rate',
          `${total + 1} device connections in ${seconds(this.limits.windowMs)} in this application (${elsewhere} on other nodes), limit ${this.limits.connectsPerApplication}`,
        );
    }
    const n = this.#connects.hit(now);
    if (n > this.limits.connectsPerApplication)
      return deny(
        'limit.connect-rate',
        `${n} device connections in ${seconds(this.limits.windowMs)} in this application, limit ${this.limits.connectsPerApplication}`,
      );
    return null;
  }

  /** Bans `deviceId` one level further than its last ban (level 1 = 30 s); returns the ban. */
  ban(deviceId: string, now: number): Ban {
    const prev = this.#bans.get(deviceId);
    const remembered = prev && now < prev.forgetAt ? prev.level : 0;
    const level = Math.min(remembered + 1, BAN_STEPS_MS.length);
    const until = now + (BAN_STEPS_MS[level - 1] ?? BAN_STEPS_MS[BAN_STEPS_MS.length - 1]!);
    this.#bans.set(deviceId, { level, until, forgetAt: until + BAN_MEMORY_MS });
    return { level, until };
  }

  /** The ban in force on `deviceId` at `now`, or null. Forgets records past their memory. */
  banOf(deviceId: string, now: number): Ban | null {
    const b = this.#bans.get(deviceId);
    if (!b) return null;
    if (now >= b.forgetAt) {
      this.#bans.delete(deviceId);
      return null;
    }
    return now < b.until ? { level: b.level, until: b.until } : null;
  }

  /** Device connections admitted in the window ending at `now` (told to the other nodes when clustered). */
  connectsInWindow(now: number): number {
    return this.#connects.inWindow(now);
  }

  /**
   * A ban another node imposed (docs/design.md §7a, clustered): kept unless this node already
   * holds a later one, so the device is refused here too and its next ban here escalates.
   */
  importBan(deviceId: string, ban: Ban): void {
    const prev = this.#bans.get(deviceId);
    if (prev && prev.until >= ban.until) return;
    this.#bans.set(deviceId, { level: ban.level, until: ban.until, forgetAt: ban.until + BAN_MEMORY_MS });
  }

  /** Every ban in force at `now` (for the UI). */
  activeBans(now: number): Array<Ban & { deviceId: string }> {
    const out: Array<Ban & { deviceId: string }> = [];
    for (const [deviceId, b] of this.#bans) if (now < b.until) out.push({ deviceId, level: b.level, until: b.until });
    return out;
  }

  /** Lifts every ban (limits switched off). */
  clear(): void {
    this.#bans.clear();
  }
}

/** Rule text for a ban just imposed, appended to the rate decision that caused it. */
export function banRule(ban: Ban, now: number): string {
  return `disconnected and banned for ${describeDuration(ban.until - now)} (ban level ${ban.level})`;
}

export function parseLimitsMode(v: unknown): LimitsMode {
  if (v === 'losant' || v === 'off') return v;
  throw new Error(`limits must be "losant" or "off" (got ${JSON.stringify(v)})`);
}

/**
 * What a fleet of `count` devices, each reporting every `everySeconds` on its own state topic,
 * would break with limits on (the fleet dialog shows these before it starts). The simulator
 * connects a fleet in waves without pacing, so more than `connectsPerApplication` devices connect
 * inside one window; each report is one message on one topic.
 */
export function fleetLimitWarnings(
  count: number,
  everySeconds: number | null,
  limits: LosantLimits = LOSANT_LIMITS,
): string[] {
  const out: string[] = [];
  const window = seconds(limits.windowMs);
  if (count > limits.connectsPerApplication)
    out.push(
      `${count} devices connect within ${window}: Losant allows ${limits.connectsPerApplication} new device connections per ${window} per application, so ${count - limits.connectsPerApplication} would be refused (limit.connect-rate) and retry`,
    );
  if (everySeconds !== null && everySeconds > 0) {
    const perWindow = Math.ceil(limits.windowMs / (everySeconds * 1000));
    if (perWindow > limits.perTopic)
      out.push(
        `reporting every ${everySeconds} s is ${perWindow} messages per ${window} on each device's state topic: over Losant's ${limits.perTopic}, each device would be disconnected and banned (limit.topic-rate)`,
      );
  }
  return out;
}

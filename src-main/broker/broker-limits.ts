// Per-connection limits of the broker (issue 13 bullet 1), their defaults and their checks.
// Documented in README "Limits"; `keyport serve` sets them with --max-packet, --max-queue,
// --drain-timeout and --max-filters.

export interface BrokerLimits {
  /** Largest remaining length (bytes after the fixed header) of any packet before login. */
  maxPacketBeforeConnect: number;
  /** Largest remaining length once logged in: Losant's "256KB per message" by default. */
  maxPacket: number;
  /** Close a client whose socket has not drained for this long (ms); 0 = never by time. */
  drainTimeoutMs: number;
  /** Close a client with more than this many bytes waiting to be written to it. */
  maxQueuedBytes: number;
  /** Filters one SUBSCRIBE may carry; past it every filter gets SUBACK 0x80. */
  maxFiltersPerSubscribe: number;
  /** Decisions one SUBSCRIBE records one by one; the rest are summarised in one. */
  maxDecisionsPerPacket: number;
}

export const DEFAULT_BROKER_LIMITS: Readonly<BrokerLimits> = Object.freeze({
  // A CONNECT with a client id, a key, a secret and a will fits in far less; 64 KiB leaves room
  // for a large will payload while a pre-login socket can make the broker hold no more than that.
  maxPacketBeforeConnect: 64 * 1024,
  // https://docs.losant.com/references/message-throttling: "256KB per message".
  maxPacket: 256 * 1024,
  // aedes' default is 60 s; 5 s is long enough for a busy device on a slow link to catch up and
  // short enough that a stuck one is gone before anyone notices.
  drainTimeoutMs: 5_000,
  // 16 packets at the 256 KiB limit; a device reading at all never gets near it.
  maxQueuedBytes: 4 * 1024 * 1024,
  maxFiltersPerSubscribe: 100,
  maxDecisionsPerPacket: 20,
});

/** MQTT's own ceiling on a remaining length (4 varint bytes, [MQTT-2.2.3]). */
export const MQTT_MAX_REMAINING = 268_435_455;

const RANGES: Record<keyof BrokerLimits, [number, number]> = {
  maxPacketBeforeConnect: [128, MQTT_MAX_REMAINING],
  maxPacket: [128, MQTT_MAX_REMAINING],
  drainTimeoutMs: [0, 3_600_000],
  maxQueuedBytes: [1024, 2 ** 40],
  maxFiltersPerSubscribe: [1, 65_535],
  maxDecisionsPerPacket: [1, 10_000],
};

/**
 * Defaults with `partial` over them. Throws naming the field and its range when a value is not
 * a whole number in range. The pre-login cap never exceeds the logged-in one, and the queue
 * bound is at least one largest packet (else one legitimate message would close a client).
 */
export function resolveBrokerLimits(partial: Partial<BrokerLimits> = {}): BrokerLimits {
  const out = { ...DEFAULT_BROKER_LIMITS };
  for (const [k, v] of Object.entries(partial) as Array<[keyof BrokerLimits, unknown]>) {
    if (v === undefined) continue;
    const range = RANGES[k];
    if (!range) throw new Error(`unknown broker limit "${String(k)}"`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < range[0] || v > range[1])
      throw new Error(`broker limit ${k} must be a whole number from ${range[0]} to ${range[1]} (got ${String(v)})`);
    out[k] = v;
  }
  if (partial.maxPacketBeforeConnect === undefined)
    out.maxPacketBeforeConnect = Math.min(out.maxPacketBeforeConnect, out.maxPacket);
  else if (out.maxPacketBeforeConnect > out.maxPacket)
    throw new Error(
      `broker limit maxPacketBeforeConnect (${out.maxPacketBeforeConnect}) must not exceed maxPacket (${out.maxPacket})`,
    );
  if (out.maxQueuedBytes < out.maxPacket)
    throw new Error(
      `broker limit maxQueuedBytes (${out.maxQueuedBytes}) must be at least maxPacket (${out.maxPacket})`,
    );
  return out;
}

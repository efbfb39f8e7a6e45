// Bounds on one SUBSCRIBE packet (issue 13 bullet 1): how many filters it may carry and how many
// decisions it may add to the feed (a ring of 10,000: one 10,000-filter SUBSCRIBE replaced it).
//
// Past `maxFilters`, EVERY filter of the packet is refused with SUBACK 0x80, with one decision
// for the packet. MQTT 3.1.1 lets a server refuse any filter: the SUBACK carries a return code
// per filter, 0x80 meaning failure [MQTT-3.8.4-5], [MQTT-3.9.3]. All-or-nothing rather than the
// first N granted (which [MQTT-3.8.4-4]'s "as if a sequence of SUBSCRIBEs" would also allow)
// because a half-granted SUBSCRIBE silently leaves a device without the rest; and a SUBACK rather
// than a disconnect because clients that resubscribe on reconnect (mqtt.js does) would loop.
//
// Within the bound, the first `maxDecisions` filters get a decision each; the rest are counted
// and summarised in one decision after the last filter ("N more filters: a granted, b refused
// (reason ×k …)"), so nothing is dropped silently.
import type { ReasonCode } from '../core/types.ts';

export interface SubscribeBoundsLimits {
  maxFilters: number;
  maxDecisions: number;
}

export interface SubscribeBatch {
  /** Filters in the packet as sent. */
  readonly sent: number;
  /** Distinct filters (aedes keeps the last of duplicates and asks once per distinct filter). */
  readonly distinct: number;
  readonly over: boolean;
  seen: number;
  recorded: number;
  granted: number;
  refused: Map<ReasonCode, number>;
}

const BATCH = Symbol('keyport.subscribeBatch');
type Tagged = { [BATCH]?: SubscribeBatch };

/** Called with each parsed SUBSCRIBE before aedes handles it: tags its filters with one batch. */
export function tagSubscribe(
  packet: { subscriptions?: Array<{ topic: string }> },
  limits: SubscribeBoundsLimits,
): void {
  const subs = packet.subscriptions;
  if (!subs || subs.length <= 1) return; // one filter: one decision, nothing to bound
  const distinct = new Set(subs.map((s) => s.topic)).size;
  const batch: SubscribeBatch = {
    sent: subs.length,
    distinct,
    over: subs.length > limits.maxFilters,
    seen: 0,
    recorded: 0,
    granted: 0,
    refused: new Map(),
  };
  for (const s of subs) (s as Tagged)[BATCH] = batch;
}

export function batchOf(sub: object): SubscribeBatch | undefined {
  return (sub as Tagged)[BATCH];
}

export type BatchStep =
  /** Record this filter's decision as usual. */
  | { record: true; summary?: undefined }
  /** Do not record it; when `summary` is set, record that one decision instead (the last filter). */
  | { record: false; summary?: string };

/** Accounts one filter's decision within its packet's batch (limits as tagged). */
export function stepBatch(
  batch: SubscribeBatch,
  limits: SubscribeBoundsLimits,
  d: { allowed: boolean; reason: ReasonCode },
): BatchStep {
  batch.seen++;
  const last = batch.seen === batch.distinct;
  if (batch.recorded < limits.maxDecisions) {
    batch.recorded++;
    return { record: true };
  }
  if (d.allowed) batch.granted++;
  else batch.refused.set(d.reason, (batch.refused.get(d.reason) ?? 0) + 1);
  if (!last) return { record: false };
  const refused = [...batch.refused.values()].reduce((a, b) => a + b, 0);
  const reasons = [...batch.refused].map(([r, k]) => `${r} ×${k}`).join(', ');
  return {
    record: false,
    summary:
      `${batch.granted + refused} more filters in this SUBSCRIBE: ${batch.granted} granted, ${refused} refused` +
      (reasons ? ` (${reasons})` : '') +
      `; at most ${limits.maxDecisions} decisions are recorded one by one per packet`,
  };
}

export function tooManyFiltersRule(batch: SubscribeBatch, limits: SubscribeBoundsLimits): string {
  return `SUBSCRIBE carries ${batch.sent} filters; at most ${limits.maxFilters} are allowed per packet, so all ${batch.sent} were refused (SUBACK 0x80) [MQTT-3.8.4-5]`;
}

/** Whether any filter of the summarised remainder was refused (the summary's result). */
export function summaryRefused(batch: SubscribeBatch): boolean {
  return batch.refused.size > 0;
}

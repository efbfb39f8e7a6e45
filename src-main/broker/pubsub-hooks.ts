// aedes' authorization hooks for PUBLISH, SUBSCRIBE and delivery, and its `published` hook: each
// translates a core decision (docs/design.md §5) into an MQTT outcome (closed connection, SUBACK
// 0x80, dropped delivery) and records it. Policy lives in src-main/core.
import type { AedesPublishPacket, Client, PublishPacket, Subscription } from 'aedes';
import { parseCommand } from '../core/payloads.ts';
import {
  classifyTopic,
  deliverAllowed,
  deliverDecision,
  publishDecision,
  subscribeDecision,
} from '../core/topic-access.ts';
import { infoOf } from './client-info.ts';
import { REVOKED } from './close-reasons.ts';
import type { HookContext } from './hook-context.ts';
import type { DecisionEvent } from '../core/decision-event.ts';
import type { BrokerMessage } from './message-sink.ts';
import type { LiveSession } from './sessions.ts';
import { withDeliveryQos } from './retained-qos.ts';
import { batchOf, stepBatch, summaryRefused, tooManyFiltersRule } from './subscribe-bounds.ts';

export function authorizePublish(
  ctx: HookContext,
  client: Client | null,
  packet: PublishPacket,
  cb: (err?: Error | null) => void,
): void {
  if (!client) return cb(null); // the platform itself (commands from the UI/API)
  const info = infoOf(client);
  const s = info.session;
  const view = info.view;
  if (!s || !view) return cb(new Error('not authenticated'));
  // A last will of a connection the broker closed because its key or device went away is not
  // published: that key no longer speaks for anyone.
  if (client.closed && s.closingReason && REVOKED.has(s.closingReason)) return cb(new Error(s.closingReason));
  const limited = ctx.losant.publish(client, s, packet);
  if (limited) return cb(limited);
  const d = publishDecision(view, packet.topic);
  const event = ctx.record(client, 'publish', d, undefined, packet.topic);
  if (d.allowed) {
    // A state report is taken now, before aedes sends the PUBACK [MQTT-4.3.2-2] and whatever
    // its delivery does: stored at once, or merged and stored at the end of this turn, before
    // the turn's PUBACKs leave (service/telemetry.ts acceptReport). One the store refuses (it is
    // closing) is not acknowledged: the client sends it again to whoever runs next.
    if (!acceptState(ctx, client, packet)) return cb(new Error('the store is closed'));
    tap(ctx, packet, s, info.transport, event, true);
    return cb(null);
  }
  tap(ctx, packet, s, info.transport, event, false);
  // MQTT 3.1.1 has no negative PUBACK: a denied PUBLISH closes the connection. aedes also asks
  // here for the last will while it is already closing the client; a refused will must not
  // overwrite why that connection is closing (key.deleted, connection.lost, ...).
  if (!client.closed) s.closingReason = 'publish.denied';
  cb(new Error(d.reason));
}

export function authorizeSubscribe(
  ctx: HookContext,
  client: Client,
  sub: Subscription,
  cb: (err: Error | null, sub?: Subscription | null) => void,
): void {
  const view = infoOf(client).view;
  if (!view) return cb(new Error('not authenticated'));
  const batch = batchOf(sub);
  if (batch?.over) {
    // One decision for the whole packet; every filter gets SUBACK 0x80 (subscribe-bounds.ts).
    if (batch.seen++ === 0) {
      const rule = tooManyFiltersRule(batch, ctx.bounds);
      ctx.record(client, 'subscribe', { allowed: false, reason: 'subscribe.too-many-filters', rule });
    }
    return cb(null, null);
  }
  const d = subscribeDecision(view, sub.topic);
  const step = batch ? stepBatch(batch, ctx.bounds, d) : undefined;
  if (!step || step.record) ctx.record(client, 'subscribe', d, undefined, sub.topic);
  else if (step.summary !== undefined && batch) {
    const refused = summaryRefused(batch);
    ctx.record(client, 'subscribe', { allowed: !refused, reason: 'decisions.summarised', rule: step.summary });
  }
  if (d.allowed) ctx.losant.subscribe(client, sub);
  cb(null, d.allowed ? sub : null); // null -> SUBACK 0x80 for this filter only
}

// Every delivery is re-checked against the key as it is now, retained messages included.
export function authorizeForward(
  ctx: HookContext,
  client: Client,
  packet: AedesPublishPacket,
): AedesPublishPacket | null {
  const info = infoOf(client);
  const s = info.session;
  const view = info.view;
  if (!s || !view) return null;
  if (!deliverAllowed(view, packet.topic)) {
    ctx.record(client, 'deliver', deliverDecision(view, packet.topic), undefined, packet.topic);
    return null;
  }
  if (!ctx.losant.forward(client, s, packet)) return null;
  s.messagesToClient++;
  ctx.delivered.add();
  return withDeliveryQos(client, packet);
}

export function published(
  ctx: HookContext,
  packet: AedesPublishPacket,
  client: Client | null,
  cb: (err?: Error | null) => void,
): void {
  cb();
  const s = client ? infoOf(client).session : undefined;
  if (client && !s) return;
  if (s) s.messagesFromClient++;
  ctx.published.add();
  if (packet.topic.startsWith('$')) return;
  // A client's PUBLISH was told to the sink when it was decided (tap); the platform's here.
  if (!client && ctx.onMessage) {
    ctx.onMessage({
      topic: packet.topic,
      payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
      qos: packet.qos,
      retain: packet.retain,
      origin: 'platform',
      delivered: true,
    });
  }
  // State reports were stored when authorised (acceptState), not here behind delivery. Only a
  // command topic needs classifying (a cheap test first: this runs for every message).
  if (!packet.topic.endsWith('/command')) return;
  const c = classifyTopic(packet.topic);
  if (c.kind !== 'device' || c.channel !== 'command') return;
  const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
  const parsed = parseCommand(payload, new Date());
  if (parsed.ok) ctx.ports.telemetry.recordCommand(c.deviceId, parsed.command);
}

const NO_PAYLOAD = Buffer.alloc(0);

/**
 * What tap tells the sink: one object for every client PUBLISH, filled in per message (the sink
 * copies what it keeps: message-sink.ts), so a PUBLISH costs no message object. Emptied after the
 * call so it holds no packet's payload or decision until the next one.
 */
const told: BrokerMessage = {
  topic: '',
  payload: NO_PAYLOAD,
  qos: 0,
  retain: false,
  origin: 'device',
  deviceId: undefined,
  keyId: undefined,
  transport: undefined,
  decision: undefined,
  delivered: false,
};

/** Tells the message sink about a client's PUBLISH and the decision on it. */
function tap(
  ctx: HookContext,
  packet: PublishPacket,
  s: LiveSession,
  transport: LiveSession['transport'],
  decision: DecisionEvent,
  delivered: boolean,
): void {
  const sink = ctx.onMessage;
  if (!sink) return;
  const m = told;
  m.topic = packet.topic;
  m.payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
  m.qos = packet.qos;
  m.retain = packet.retain;
  m.deviceId = s.deviceId;
  m.keyId = s.keyId;
  m.transport = transport;
  m.decision = decision;
  m.delivered = delivered;
  try {
    sink(m);
  } finally {
    m.payload = NO_PAYLOAD;
    m.decision = undefined;
  }
}

/** Stores an authorised state report; false when the store refused it. */
function acceptState(ctx: HookContext, client: Client, packet: PublishPacket): boolean {
  if (!packet.topic.endsWith('/state')) return true; // not a state topic (a cheap test first)
  const c = classifyTopic(packet.topic);
  if (c.kind !== 'device' || c.channel !== 'state') return true;
  const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
  const intake = ctx.ports.telemetry.acceptReport(c.deviceId, payload);
  if (!intake.decision.allowed) ctx.record(client, 'state', intake.decision, undefined, packet.topic);
  watchDurable(ctx, intake.durable, c.deviceId);
  return intake.stored || !intake.decision.allowed;
}

/**
 * The write promises a handler is attached to (reports share one per store write). A WeakSet, not
 * "the last one": several brokers (cluster nodes in one test process) interleave their writes.
 */
const watched = new WeakSet<Promise<void>>();

/** Logs a failed state write once per write, not once per report (no promise per message). */
function watchDurable(ctx: HookContext, durable: Promise<void>, deviceId: string): void {
  if (watched.has(durable)) return;
  watched.add(durable);
  logFailure(ctx, durable, deviceId);
}

/** The handler, in a function of its own: a closure here made a context per report, watched or not. */
function logFailure(ctx: HookContext, durable: Promise<void>, deviceId: string): void {
  durable.catch((e: unknown) =>
    ctx.log(
      `keyport: could not store state for ${deviceId} (and any reports sharing its write): ${(e as Error).message}`,
    ),
  );
}

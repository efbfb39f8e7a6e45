// The contract's messages.* methods (docs/design.md §8a): requests checked by their schemas
// (core/schemas/message-requests.ts; every error names its field) and the calls into the message
// tap. Publishing as the platform needs the broker in this process; publishing as a device goes through a running simulation of it, whose key and secret
// stay in the main process: the renderer names the simulation, never a secret.
import type { PublishRequest, PublishResult, Res } from '../contract.ts';
import type { Static, TSchema } from '@sinclair/typebox';
import {
  MessageSubscribeRequest,
  MessageSubscriptionIdRequest,
  PublishRequestSchema,
} from '../core/schemas/message-requests.ts';
import { parseWith } from '../core/schemas/schema-errors.ts';
import { validateTopicName } from '../core/topics.ts';
import { ServiceError, validationError } from '../shared/errors.ts';
import type { Simulator } from '../simulator/simulator.ts';
import type { MessageTap } from './message-tap.ts';
import { needSimulator } from './simulator-handlers.ts';

const bad = (field: string, rule: string): ServiceError => validationError([{ field, message: `${field}: ${rule}` }]);

/** Largest payload the Publish box sends (the broker's own packet limit applies to devices anyway). */
export const MAX_PUBLISH_PAYLOAD = 256 * 1024;
/** How long publish waits to see its own message go through the broker (it normally takes < 1 ms;
 * a device's PUBLISH crosses a socket). Past it, the result simply has no `message`. */
const SEEN_TIMEOUT_MS = 3000;

export type PlatformPublish = (topic: string, payload: Buffer, opts: { qos: 0 | 1; retain: boolean }) => Promise<void>;

function parse<T extends TSchema>(schema: T, req: unknown): Static<T> {
  const parsed = parseWith(schema, req);
  if (!parsed.ok) throw validationError(parsed.errors);
  return parsed.value;
}

const subId = (req: unknown): string => parse(MessageSubscriptionIdRequest, req).id;

function publishRequest(req: unknown): Required<Omit<PublishRequest, 'simulationId'>> & { simulationId?: string } {
  const r = parse(PublishRequestSchema, req);
  const topicError = validateTopicName(r.topic);
  if (topicError !== null) throw bad('topic', topicError);
  if (r.topic.startsWith('$')) throw bad('topic', 'topics starting with $ belong to the broker');
  if (Buffer.byteLength(r.payload) > MAX_PUBLISH_PAYLOAD)
    throw bad('payload', `must be at most ${MAX_PUBLISH_PAYLOAD} bytes (got ${Buffer.byteLength(r.payload)})`);
  return {
    topic: r.topic,
    payload: r.payload,
    qos: r.qos ?? 0,
    retain: r.retain ?? false,
    ...(r.simulationId !== undefined ? { simulationId: r.simulationId } : {}),
  };
}

export const messageHandlers = {
  'messages.subscribe': (tap: MessageTap, req: unknown): Res<'messages.subscribe'> => {
    const r = parse(MessageSubscribeRequest, req);
    return tap.subscribe(r.filter, r.deviceId);
  },
  'messages.list': (tap: MessageTap, req: unknown) => tap.list(subId(req)),
  'messages.clear': (tap: MessageTap, req: unknown) => {
    const id = subId(req);
    tap.clear(id);
    return { id };
  },
  'messages.unsubscribe': (tap: MessageTap, req: unknown) => {
    const id = subId(req);
    tap.unsubscribe(id);
    return { id };
  },
  'messages.publish': async (
    tap: MessageTap,
    req: unknown,
    publish: PlatformPublish | undefined,
    simulator: Simulator | undefined,
  ): Promise<PublishResult> => {
    const p = publishRequest(req);
    if (p.simulationId !== undefined) {
      const sim = needSimulator(simulator).get(p.simulationId);
      const deviceId = sim.deviceId;
      const seen = tap.next(
        (m) => m.origin === 'device' && m.deviceId === deviceId && m.topic === p.topic,
        SEEN_TIMEOUT_MS,
      );
      needSimulator(simulator).publish(p.simulationId, p.topic, p.payload, p.qos, p.retain);
      const message = await seen;
      return { origin: 'device', deviceId, ...(message ? { message } : {}) };
    }
    if (!publish) throw new ServiceError('unavailable', 'the broker is not running in this process');
    const seen = tap.next((m) => m.origin === 'platform' && m.topic === p.topic, SEEN_TIMEOUT_MS);
    await publish(p.topic, Buffer.from(p.payload), { qos: p.qos, retain: p.retain });
    const message = await seen;
    return { origin: 'platform', ...(message ? { message } : {}) };
  },
};

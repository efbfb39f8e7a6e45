// The three-device fleet the docs/design.md §5 topic suites share (socket-free and real sockets).
import { randomBytes } from 'node:crypto';
import type { AccessKey } from '../../src-main/core/types.ts';
import type { BackendHarness } from './runtime-harness.ts';

export type Key = { accessKey: AccessKey; secret: string };

export const STATE = '{"data":{"temp":20}}';
export const COMMAND = '{"name":"blink","payload":{"times":2}}';
export const payloadFor = (topic: string): string =>
  topic.endsWith('/state') ? STATE : topic.endsWith('/command') ? COMMAND : 'hello';

/**
 * A and B carry the fleet tag, C does not; `key` is scoped by that tag (scope = {A, B}).
 * Each test gets its own fleet, so events never mix between tests.
 */
export async function fleet(h: BackendHarness, keyInput: Record<string, unknown> = {}) {
  const tag = { key: 'fleet', value: `f-${randomBytes(6).toString('hex')}` };
  const A = await h.device({ tags: [tag, { key: 'role', value: 'a' }] });
  const B = await h.device({ tags: [tag] });
  const C = await h.device({ tags: [{ key: 'fleet', value: 'elsewhere' }] });
  const key = await h.key({ deviceTags: [tag], ...keyInput });
  return { tag, A, B, C, key };
}

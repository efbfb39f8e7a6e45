// Checks on the decision feed shared by the CONNECT suites (in memory and on real sockets).
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { DecisionEvent } from '../../src-main/core/decision-event.ts';
import type { AccessKey, Device } from '../../src-main/core/types.ts';
import { decisionsOf } from './mqtt-clients.ts';
import type { BackendHarness } from './runtime-harness.ts';

/** 24 hex characters: the shape of a device id that names no device. */
export const hex24 = (): string => randomBytes(12).toString('hex');
/** A secret of the right shape that no key was made with. */
export const fakeSecret = (): string => randomBytes(32).toString('hex');

/** The one connect decision for this client id (each attempt produces exactly one). */
export async function connectDecision(h: BackendHarness, clientId: string): Promise<DecisionEvent> {
  const e = await h.decision((d) => d.action === 'connect' && d.deviceId === clientId);
  expect(decisionsOf(h, clientId).filter((d) => d.action === 'connect')).toHaveLength(1);
  return e;
}

export function expectNoSecret(event: DecisionEvent, ...secrets: string[]): void {
  const text = JSON.stringify(event);
  for (const s of secrets) expect(text).not.toContain(s);
}

export interface OwnKey {
  device: Device;
  accessKey: AccessKey;
  secret: string;
  /** mqtt.js options that connect as the device with its key. */
  auth: { clientId: string; username: string; password: string };
}

/** A new device and a key restricted to it (plus `key` fields), the setup most CONNECT tests share. */
export async function deviceWithOwnKey(h: BackendHarness, key: Record<string, unknown> = {}): Promise<OwnKey> {
  const device = await h.device();
  const { accessKey, secret } = await h.key({ deviceIds: [device.id], ...key });
  return { device, accessKey, secret, auth: { clientId: device.id, username: accessKey.key, password: secret } };
}

// Builders for valid domain records, for any test. Each call makes fresh ids and keys;
// pass overrides for the fields a test cares about.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newId } from '../../src-main/core/ids.ts';
import { generateKey, generateSecret, makeVerifier } from '../../src-main/core/secrets.ts';
import type { AccessKeyRecord, Device } from '../../src-main/core/types.ts';

export const FIXTURE_TIME = '2026-01-01T00:00:00.000Z';
/** A fixed pepper for verifiers made by these helpers. */
export const TEST_PEPPER = Buffer.alloc(32, 7);

export function makeDevice(overrides: Partial<Device> = {}): Device {
  return {
    id: newId(),
    name: 'Test device',
    description: '',
    tags: [],
    deviceClass: 'standalone',
    creationDate: FIXTURE_TIME,
    lastUpdated: FIXTURE_TIME,
    ...overrides,
  };
}

/** A stored access key record plus the secret its verifier was made from. */
export function makeKeyWithSecret(
  overrides: Partial<AccessKeyRecord> = {},
  secret: string = generateSecret(),
  pepper: Buffer = TEST_PEPPER,
): { record: AccessKeyRecord; secret: string } {
  const record: AccessKeyRecord = {
    id: newId(),
    key: generateKey(),
    status: 'active',
    addressFilterType: 'all',
    addresses: [],
    filterType: 'none',
    pubTopics: [],
    subTopics: [],
    creationDate: FIXTURE_TIME,
    lastUpdated: FIXTURE_TIME,
    createdVia: 'api',
    secretVerifier: makeVerifier(secret, pepper),
    ...overrides,
  };
  return { record, secret };
}

export function makeKeyRecord(overrides: Partial<AccessKeyRecord> = {}): AccessKeyRecord {
  return makeKeyWithSecret(overrides).record;
}

/** A fresh directory under the OS temp dir; remove it with removeTempDir. */
export function makeTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'keyport-test-'));
}

export function removeTempDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

// The domain types and the schemas describe the same records: a compile-time link (tsc -b checks
// these files), so a field added to one and not the other fails the typecheck. At run time each
// schema accepts a record built from the type.
import type { Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { DeviceRecord, KeyRecordSchema } from '../../../src-main/core/schemas/record-schemas.ts';
import { StoreFile, type StoreFileData } from '../../../src-main/core/schemas/store-file-schema.ts';
import type { AccessKeyRecord, Device } from '../../../src-main/core/types.ts';
import type { StoreData } from '../../../src-main/store/store.ts';
import { makeDevice, makeKeyRecord } from '../../helpers/fixtures.ts';

describe('record schemas and domain types', () => {
  it('Device and AccessKeyRecord fit their store schemas', () => {
    expectTypeOf<Device>().toExtend<Static<typeof DeviceRecord>>();
    expectTypeOf<AccessKeyRecord>().toExtend<Static<typeof KeyRecordSchema>>();
    const d: Device = { ...makeDevice(), attributes: [{ name: 'temp', dataType: 'number' }] };
    expect(Value.Check(DeviceRecord, d)).toBe(true);
    expect(Value.Check(KeyRecordSchema, makeKeyRecord())).toBe(true);
  });

  it('StoreData fits the store file schema', () => {
    expectTypeOf<StoreData>().toExtend<StoreFileData>();
    const data: StoreData = {
      version: 1,
      applicationId: 'a'.repeat(24),
      devices: [makeDevice()],
      keys: [makeKeyRecord()],
    };
    expect(Value.Check(StoreFile, data)).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../../src-main/store/memory-store.ts';
import { KeyportService } from '../../../src-main/service/service.ts';
import { ServiceError } from '../../../src-main/shared/errors.ts';

const service = () => new KeyportService({ store: createMemoryStore(), pepper: Buffer.alloc(32, 3) });

describe('KeyService.update', () => {
  it('removes the name with name: null and keeps the rest', async () => {
    const s = service();
    const { accessKey } = await s.keys.create({ name: 'porch', description: 'd' });
    const after = await s.keys.update(accessKey.id, { name: null });
    expect(after.name).toBeUndefined();
    expect(after.description).toBe('d');
    expect(s.keys.get(accessKey.id).name).toBeUndefined();
  });

  it('still refuses an empty string as a name', async () => {
    const s = service();
    const { accessKey } = await s.keys.create({ name: 'porch' });
    await expect(s.keys.update(accessKey.id, { name: '' })).rejects.toThrow(/name must be 1-255 characters/);
  });

  it('refuses changes to the device restriction', async () => {
    const s = service();
    const { accessKey } = await s.keys.create({ name: 'porch' });
    const err = await s.keys.update(accessKey.id, { deviceTags: [{ key: 'a', value: 'b' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceError);
    expect((err as ServiceError).message).toContain('deviceTags cannot be changed after the key is created');
  });
});

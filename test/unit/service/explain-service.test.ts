// access.explain through the dispatcher: the server's trusted proxies are the default, a request may
// ask "what if" with its own list, and app.info reports the server's list (the playground's default).
import { describe, expect, it } from 'vitest';
import type { Explanation, Res } from '../../../src-main/contract.ts';
import { parseTrustedProxies } from '../../../src-main/core/client-address.ts';
import { dispatch, type DispatchContext } from '../../../src-main/service/dispatch.ts';
import { KeyportService } from '../../../src-main/service/service.ts';
import { createMemoryStore } from '../../../src-main/store/memory-store.ts';

async function setup(trusted?: string[]) {
  const service = new KeyportService({ store: createMemoryStore(), pepper: Buffer.alloc(32, 7) });
  const device = await service.devices.create({ name: 'door' });
  const { accessKey } = await service.keys.create({ deviceIds: [device.id] });
  const ctx: DispatchContext = {
    service,
    dataDir: '/nowhere',
    listeners: () => null,
    ...(trusted ? { trustedProxies: parseTrustedProxies(trusted) } : {}),
  };
  return { ctx, device, accessKey };
}

/** The CONNECT's effective address, or the error. */
async function addressOf(ctx: DispatchContext, req: unknown): Promise<string | undefined> {
  const r = await dispatch(ctx, 'access.explain', req);
  if (!r.ok) throw new Error(r.error.message);
  return (r.result as Explanation).connect.address;
}

async function infoOf(ctx: DispatchContext): Promise<Res<'app.info'>> {
  const r = await dispatch(ctx, 'app.info', {});
  if (!r.ok) throw new Error(r.error.message);
  return r.result as Res<'app.info'>;
}

const viaProxy = (keyId: string, deviceId: string, extra: Record<string, unknown> = {}) => ({
  key: keyId,
  deviceId,
  transport: 'ws',
  address: '10.1.2.3',
  forwardedFor: '203.0.113.9',
  ...extra,
});

describe('access.explain trusted proxies', () => {
  it("reads X-Forwarded-For as the server's trusted proxies do", async () => {
    const { ctx, device, accessKey } = await setup(['10.0.0.0/8']);
    expect(await addressOf(ctx, viaProxy(accessKey.id, device.id))).toBe('203.0.113.9');
  });

  it('uses the loopback default when the server gave none', async () => {
    const { ctx, device, accessKey } = await setup();
    expect(await addressOf(ctx, viaProxy(accessKey.id, device.id))).toBe('10.1.2.3');
  });

  it("a request's own list replaces the server's ([] trusts nobody)", async () => {
    const { ctx, device, accessKey } = await setup(['10.0.0.0/8']);
    expect(await addressOf(ctx, viaProxy(accessKey.id, device.id, { trustedProxies: [] }))).toBe('10.1.2.3');
    const mine = viaProxy(accessKey.id, device.id, { trustedProxies: [' 10.1.2.3 '] });
    expect(await addressOf(ctx, mine)).toBe('203.0.113.9');
  });

  it('refuses a bad trusted proxy naming the field and the entry', async () => {
    const { ctx, device, accessKey } = await setup();
    const r = await dispatch(
      ctx,
      'access.explain',
      viaProxy(accessKey.id, device.id, { trustedProxies: ['10.0.0.0/99'] }),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('validation');
    expect(r.error.errors?.[0]?.field).toBe('trustedProxies');
    expect(r.error.errors?.[0]?.message).toContain('10.0.0.0/99');
    const notList = await dispatch(
      ctx,
      'access.explain',
      viaProxy(accessKey.id, device.id, { trustedProxies: '10.0.0.1' }),
    );
    expect(!notList.ok && notList.error.errors?.[0]?.message).toMatch(/trustedProxies must be an array/);
  });

  it("app.info reports the server's trusted proxies, loopback by default", async () => {
    const custom = await setup(['10.0.0.0/8', '192.168.1.1']);
    expect((await infoOf(custom.ctx)).trustedProxies).toEqual(['10.0.0.0/8', '192.168.1.1']);
    expect((await infoOf((await setup()).ctx)).trustedProxies).toEqual(['127.0.0.0/8', '::1/128']);
  });
});

// Contract request envelopes are read through their schemas (core/schemas/request-schemas.ts):
// each bad request gets an error naming the field, the rule and the value it had, every problem
// at once; the bodies inside (a patch's fields) keep the service's own field paths.
import { describe, expect, it } from 'vitest';
import type { LimitsInfo } from '../../../src-main/contract.ts';
import { dispatch, type DispatchContext } from '../../../src-main/service/dispatch.ts';
import { KeyportService } from '../../../src-main/service/service.ts';
import { createMemoryStore } from '../../../src-main/store/memory-store.ts';

const context = (): DispatchContext => ({
  service: new KeyportService({ store: createMemoryStore(), pepper: Buffer.alloc(32, 5), log: () => {} }),
  dataDir: '/nonexistent',
  listeners: () => null,
  limits: { set: async (mode) => ({ mode }) as LimitsInfo },
});

describe('contract request envelopes', () => {
  it.each([
    ['devices.get', { id: 'x' }, 'id must be a device id (24 lowercase hex characters), got "x"'],
    ['devices.get', {}, 'id must be a device id (24 lowercase hex characters), got nothing'],
    ['keys.get', { id: 7 }, 'id must be an access key id (24 lowercase hex characters), got 7'],
    ['devices.update', { id: 'a'.repeat(24), patch: [] }, 'patch must be an object'],
    ['keys.update', { id: 'a'.repeat(24) }, 'patch must be an object'],
    [
      'keys.update',
      { id: 'nope', patch: 'x' },
      'id must be an access key id (24 lowercase hex characters), got "nope"; patch must be an object',
    ],
    ['devices.sendCommand', { id: 'a'.repeat(24), name: '' }, 'name must be a string of 1-255 characters'],
    ['devices.generateKey', { id: 'a'.repeat(24), name: 5 }, 'name must be a string of 1-255 characters'],
    ['decisions.list', { limit: 0 }, 'limit must be a positive whole number (got 0)'],
    ['decisions.list', { limit: 1.5 }, 'limit must be a positive whole number (got 1.5)'],
    ['decisions.export', { deviceId: 5 }, 'deviceId must be a string (got 5)'],
    [
      'decisions.list',
      { action: 'nope', result: 'maybe' },
      'action must be one of connect, publish, subscribe, deliver, disconnect, state, auth (got "nope"); result must be allowed or denied (got "maybe")',
    ],
  ])('%s %j → bad-request "%s"', async (method, req, message) => {
    expect(await dispatch(context(), method, req)).toEqual({ ok: false, error: { code: 'bad-request', message } });
  });

  it('broker.setLimits: a validation error naming mode and the value', async () => {
    const message = 'mode must be "losant" or "off" (got "fast")';
    expect(await dispatch(context(), 'broker.setLimits', { mode: 'fast' })).toEqual({
      ok: false,
      error: { code: 'validation', message, errors: [{ field: 'mode', message }] },
    });
    expect(await dispatch(context(), 'broker.setLimits', { mode: 'off' })).toEqual({
      ok: true,
      result: { mode: 'off' },
    });
  });

  it("a well-formed envelope hands the patch to the service, whose errors keep the patch's own paths", async () => {
    const ctx = context();
    const created = await dispatch(ctx, 'keys.create', { name: 'k' });
    if (!created.ok) throw new Error(created.error.message);
    const { id } = (created.result as { accessKey: { id: string } }).accessKey;
    const r = await dispatch(ctx, 'keys.update', { id, patch: { status: 'paused' } });
    expect(r).toMatchObject({ ok: false, error: { code: 'validation', errors: [{ field: 'status' }] } });
    expect(JSON.stringify(r)).toContain('paused');
    const ok = await dispatch(ctx, 'decisions.list', { limit: 2, result: 'denied' });
    expect(ok).toEqual({ ok: true, result: [] });
  });
});

// The playground's form → access.explain request, and which decision rows can be replayed.
import { describe, expect, it } from 'vitest';
import type { DecisionEvent } from '../../../src-main/core/decision-event.ts';
import {
  canReplay,
  emptyPlayground,
  explainQuery,
  missingInput,
  replayForm,
  type PlaygroundForm,
} from '../../../src-renderer/components/playground/playground-form.ts';
import { accessKey, device, hexId } from '../../helpers/core-fixtures.ts';

const door = device({ id: hexId(1), name: 'door' });
const key = accessKey({ id: hexId(7), deviceIds: [door.id] }).record;
const server = ['127.0.0.0/8', '::1/128'];
const form = (over: Partial<PlaygroundForm>): PlaygroundForm => ({ ...emptyPlayground([key], [door]), ...over });

describe('explainQuery', () => {
  it('a picked key goes by id and no secret; topics one a line, blank lines dropped, spaces kept', () => {
    const q = explainQuery(form({ publish: 'a/b\n\n a/c', subscribe: '#\n', secret: 'ignored' }), server);
    expect(q).toEqual({
      key: key.id,
      deviceId: door.id,
      transport: 'tcp',
      address: '127.0.0.1',
      publish: ['a/b', ' a/c'],
      subscribe: ['#'],
      deliver: [],
    });
  });

  it('a pasted key carries its secret (when given) and a typed client id', () => {
    const q = explainQuery(
      form({ keyMode: 'paste', keyText: ' k1 ', secret: 's', deviceMode: 'type', clientId: 'c' }),
      server,
    );
    expect(q).toMatchObject({ key: 'k1', secret: 's', deviceId: 'c' });
    expect(explainQuery(form({ keyMode: 'paste', keyText: 'k1' }), server)).not.toHaveProperty('secret');
  });

  it("X-Forwarded-For and trusted proxies go with ws only; the proxies only when not the server's", () => {
    const xff = { forwardedFor: '203.0.113.7', trustedProxies: server.join('\n') };
    expect(explainQuery(form({ ...xff, transport: 'tcp' }), server)).not.toHaveProperty('forwardedFor');
    const same = explainQuery(form({ ...xff, transport: 'ws' }), server);
    expect(same.forwardedFor).toBe('203.0.113.7');
    expect(same).not.toHaveProperty('trustedProxies');
    const mine = explainQuery(form({ ...xff, transport: 'ws', trustedProxies: '10.0.0.0/8\n' }), server);
    expect(mine.trustedProxies).toEqual(['10.0.0.0/8']);
    expect(explainQuery(form({ ...xff, transport: 'ws', trustedProxies: '' }), server).trustedProxies).toEqual([]);
  });

  it('names what is missing before asking', () => {
    expect(missingInput(form({}))).toBeNull();
    expect(missingInput(form({ keyMode: 'paste', keyText: ' ' }))).toMatch(/access key/);
    expect(missingInput(form({ deviceMode: 'type', clientId: '' }))).toMatch(/client id/);
  });
});

describe('replay', () => {
  const base: DecisionEvent = {
    seq: 1,
    time: '2026-01-01T00:00:00.000Z',
    transport: 'tcp',
    action: 'connect',
    result: 'denied',
    reason: 'device.unknown',
    rule: 'x',
    deviceId: 'ghost',
  };

  it('replays MQTT attempts with what they need, not HTTP calls or disconnects', () => {
    expect(canReplay(base)).toBe(true);
    expect(canReplay({ ...base, transport: 'http' })).toBe(false);
    expect(canReplay({ ...base, action: 'disconnect' })).toBe(false);
    expect(canReplay({ ...base, action: 'publish' })).toBe(false); // no topic recorded
    expect(canReplay({ ...base, action: 'subscribe', topic: 'a/#' })).toBe(true);
  });

  it('an unknown device becomes a typed client id; a vanished key asks to paste one', () => {
    const f = replayForm({ ...base, keyId: hexId(99) }, [key], [door], server);
    expect(f).toMatchObject({ deviceMode: 'type', clientId: 'ghost', keyMode: 'paste', keyText: '' });
    expect(missingInput(f)).toMatch(/access key/);
    const d = replayForm({ ...base, action: 'deliver', topic: 't/1', keyId: key.id }, [key], [door], server);
    expect(d).toMatchObject({ keyMode: 'pick', keyId: key.id, deliver: 't/1', publish: '', subscribe: '' });
  });
});

// docs/design.md §9: the Losant-compatible HTTP API over real sockets (port 0, temp data dir), raw fetch.
// Device auth runs the CONNECT checks (one 401 per failing check, each recorded in the feed);
// device tokens are re-checked on every request with the key's scope resolved NOW; management
// endpoints need the admin token; every error is Losant's {type, message}. The token clock is
// the test's own, so expiry is tested without waiting.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionEvent } from '../../src-main/core/decision-event.ts';
import type { ReasonCode } from '../../src-main/core/types.ts';
import { losantApiRoutes } from '../../src-main/server/losant-api/routes.ts';
import { MAX_TOKEN_TTL } from '../../src-main/server/losant-api/device-token.ts';
import { ClientPool, nextMessage, subscribe, within } from '../helpers/mqtt-clients.ts';
import { startHarness, type Harness } from '../helpers/runtime-harness.ts';

let h: Harness;
let base: string;
let appId: string;
let admin: string;
/** The API's clock; undefined = real time. */
let clockMs: number | undefined;
const pool = new ClientPool();

beforeAll(async () => {
  h = await startHarness({
    routes: (rt) =>
      losantApiRoutes({
        ...rt,
        trustedProxies: ['127.0.0.0/8', '::1/128'],
        now: () => new Date(clockMs ?? Date.now()),
      }),
  });
  base = `http://127.0.0.1:${h.rt.ports.http}`;
  appId = h.rt.service.applicationId;
  admin = h.rt.adminToken;
});
afterEach(async () => {
  clockMs = undefined;
  await pool.endAll();
});
afterAll(() => h?.stop());

interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

async function call(
  method: string,
  path: string,
  opts: { body?: unknown; raw?: string; token?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined = opts.raw;
  if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(base + path, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await r.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: r.status, body: parsed, text };
}

/** Losant's error shape, nothing else in it, and no stack trace. */
function expectError(r: Reply, status: number, type: string, ...mentions: string[]): void {
  expect(r.status, r.text).toBe(status);
  expect(Object.keys(r.body as object).sort()).toEqual(['message', 'type']);
  expect(r.body.type).toBe(type);
  expect(typeof r.body.message).toBe('string');
  expect(r.text).not.toMatch(/\n\s+at |\.ts:\d+/);
  for (const m of mentions) expect(r.body.message).toContain(m);
}

const hex24 = (n: number): string => n.toString(16).padStart(24, 'a');
const jwtPayload = (token: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));

async function authAs(
  deviceId: string,
  key: string,
  secret: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<Reply> {
  return call('POST', '/auth/device', { body: { deviceId, key, secret, ...extra }, headers });
}

async function deviceToken(
  deviceId: string,
  key: string,
  secret: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const r = await authAs(deviceId, key, secret, extra);
  expect(r.status, r.text).toBe(200);
  return r.body.token as string;
}

/** The one auth decision for this device since `since`. */
function authEvents(deviceId: string, since: number): DecisionEvent[] {
  return h.rt.service.feed.list().filter((e) => e.seq > since && e.action === 'auth' && e.deviceId === deviceId);
}
const lastSeq = (): number => h.rt.service.feed.list(1)[0]?.seq ?? 0;

describe('POST /auth/device', () => {
  it("returns Losant's authedDevice with a signed token (default one hour) and records the attempt", async () => {
    const d = await h.device({ deviceClass: 'gateway' });
    const k = await h.key({
      deviceIds: [d.id],
      filterType: 'whitelist',
      pubTopics: ['sensors/+'],
      subTopics: ['cmd/#'],
    });
    const since = lastSeq();
    const r = await authAs(d.id, k.accessKey.key, k.secret);
    expect(r.status, r.text).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual([
      'applicationId',
      'deviceClass',
      'deviceId',
      'filterType',
      'pubTopics',
      'subTopics',
      'token',
    ]);
    expect(r.body).toMatchObject({
      applicationId: appId,
      deviceId: d.id,
      deviceClass: 'gateway',
      filterType: 'whitelist',
      pubTopics: ['sensors/+'],
      subTopics: ['cmd/#'],
    });
    const [header, , sig] = (r.body.token as string).split('.');
    expect(JSON.parse(Buffer.from(header ?? '', 'base64url').toString())).toMatchObject({ alg: 'HS256', typ: 'JWT' });
    expect(sig).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const claims = jwtPayload(r.body.token);
    expect(claims).toMatchObject({ sub: d.id, keyId: k.accessKey.id });
    expect((claims.exp as number) - (claims.iat as number)).toBe(3600);
    const events = authEvents(d.id, since);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      transport: 'http',
      action: 'auth',
      result: 'allowed',
      reason: 'connect.accepted',
      keyId: k.accessKey.id,
      sourceAddress: '127.0.0.1',
    });
    expect(JSON.stringify(events)).not.toContain(k.secret);
    expect(h.rt.service.keys.get(k.accessKey.id).lastUsed).toBeDefined();
  });

  it('honours tokenTTL: seconds, 0 = the one-year maximum, above a year or not an integer = 400', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    const t60 = jwtPayload(await deviceToken(d.id, k.accessKey.key, k.secret, { tokenTTL: 60 }));
    expect((t60.exp as number) - (t60.iat as number)).toBe(60);
    const t0 = jwtPayload(await deviceToken(d.id, k.accessKey.key, k.secret, { tokenTTL: 0 }));
    expect((t0.exp as number) - (t0.iat as number)).toBe(MAX_TOKEN_TTL);
    const since = lastSeq();
    expectError(
      await authAs(d.id, k.accessKey.key, k.secret, { tokenTTL: MAX_TOKEN_TTL + 1 }),
      400,
      'Validation',
      'tokenTTL',
    );
    expectError(await authAs(d.id, k.accessKey.key, k.secret, { tokenTTL: 1.5 }), 400, 'Validation', 'tokenTTL');
    expectError(await authAs(d.id, k.accessKey.key, k.secret, { tokenTTL: '60' }), 400, 'Validation', 'tokenTTL');
    expect(authEvents(d.id, since)).toHaveLength(0); // a malformed request is not an attempt
  });

  it('rejects malformed requests with 400 naming the field', async () => {
    expectError(await call('POST', '/auth/device', { raw: '{"deviceId": ' }), 400, 'BadRequest', 'not valid JSON');
    expectError(await call('POST', '/auth/device', { body: [1, 2] }), 400, 'Validation', 'body');
    expectError(await call('POST', '/auth/device', { body: { key: 'k', secret: 's' } }), 400, 'Validation', 'deviceId');
    expectError(
      await call('POST', '/auth/device', { body: { deviceId: 5, key: 'k', secret: 's' } }),
      400,
      'Validation',
      'deviceId',
    );
    expectError(
      await call('POST', '/auth/device', { body: { deviceId: hex24(1), key: 7, secret: 's' } }),
      400,
      'Validation',
      'key',
    );
    expectError(
      await call('POST', '/auth/device', { body: { deviceId: hex24(1), key: 'k', secret: 's', password: 'x' } }),
      400,
      'Validation',
      'password',
    );
  });

  interface Row {
    reason: ReasonCode;
    setup(): Promise<{
      deviceId: string;
      body: Record<string, unknown>;
      headers?: Record<string, string>;
      keyId?: string;
      secrets: string[];
    }>;
  }
  const rows: Row[] = [
    {
      reason: 'credentials.missing',
      async setup() {
        const d = await h.device();
        const k = await h.key({ deviceIds: [d.id] });
        return { deviceId: d.id, body: { deviceId: d.id, key: k.accessKey.key }, secrets: [k.secret] };
      },
    },
    {
      reason: 'key.unknown',
      async setup() {
        const d = await h.device();
        return {
          deviceId: d.id,
          body: { deviceId: d.id, key: '6f1c7d2e-2a44-4c1e-9a55-000000000000', secret: 'ab'.repeat(32) },
          secrets: ['ab'.repeat(32)],
        };
      },
    },
    {
      reason: 'secret.mismatch',
      async setup() {
        const d = await h.device();
        const k = await h.key({ deviceIds: [d.id] });
        return {
          deviceId: d.id,
          body: { deviceId: d.id, key: k.accessKey.key, secret: 'cd'.repeat(32) },
          keyId: k.accessKey.id,
          secrets: [k.secret, 'cd'.repeat(32)],
        };
      },
    },
    {
      reason: 'key.inactive',
      async setup() {
        const d = await h.device();
        const k = await h.key({ deviceIds: [d.id], status: 'inactive' });
        return {
          deviceId: d.id,
          body: { deviceId: d.id, key: k.accessKey.key, secret: k.secret },
          keyId: k.accessKey.id,
          secrets: [k.secret],
        };
      },
    },
    {
      reason: 'address.denied',
      async setup() {
        const d = await h.device();
        const k = await h.key({ deviceIds: [d.id], addressFilterType: 'whitelist', addresses: ['10.9.9.9'] });
        return {
          deviceId: d.id,
          body: { deviceId: d.id, key: k.accessKey.key, secret: k.secret },
          keyId: k.accessKey.id,
          secrets: [k.secret],
        };
      },
    },
    {
      reason: 'address.malformed',
      async setup() {
        const d = await h.device();
        const k = await h.key({ deviceIds: [d.id] });
        return {
          deviceId: d.id,
          body: { deviceId: d.id, key: k.accessKey.key, secret: k.secret },
          headers: { 'x-forwarded-for': 'not-an-address' },
          keyId: k.accessKey.id,
          secrets: [k.secret],
        };
      },
    },
    {
      reason: 'device.unknown',
      async setup() {
        const k = await h.key({});
        return {
          deviceId: hex24(77),
          body: { deviceId: hex24(77), key: k.accessKey.key, secret: k.secret },
          keyId: k.accessKey.id,
          secrets: [k.secret],
        };
      },
    },
    {
      reason: 'device.out-of-scope',
      async setup() {
        const mine = await h.device();
        const other = await h.device({ tags: [{ key: 'env', value: 'lab' }] });
        const k = await h.key({ deviceIds: [mine.id], deviceTags: [{ key: 'env', value: 'prod' }] });
        return {
          deviceId: other.id,
          body: { deviceId: other.id, key: k.accessKey.key, secret: k.secret },
          keyId: k.accessKey.id,
          secrets: [k.secret],
        };
      },
    },
  ];

  for (const row of rows) {
    it(`401 for ${row.reason}, recorded once in the feed without the secret`, async () => {
      const a = await row.setup();
      const since = lastSeq();
      const r = await call('POST', '/auth/device', { body: a.body, ...(a.headers ? { headers: a.headers } : {}) });
      expectError(r, 401, 'Unauthorized', 'Authorization failed');
      for (const s of a.secrets) expect(r.text).not.toContain(s);
      const events = authEvents(a.deviceId, since);
      expect(events).toHaveLength(1);
      const e = events[0] as DecisionEvent;
      expect(e).toMatchObject({ transport: 'http', action: 'auth', result: 'denied', reason: row.reason });
      if (a.keyId) expect(e.keyId).toBe(a.keyId);
      else expect(e.keyId).toBeUndefined();
      for (const s of a.secrets) expect(JSON.stringify(e)).not.toContain(s);
      if (a.headers?.['x-forwarded-for']) expect(e.forwardedFor).toBe(a.headers['x-forwarded-for']);
    });
  }

  it('does not tell an unknown key from a wrong secret', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    const unknown = await authAs(d.id, '6f1c7d2e-2a44-4c1e-9a55-111111111111', k.secret);
    const wrong = await authAs(d.id, k.accessKey.key, 'ef'.repeat(32));
    expect(unknown.body).toEqual(wrong.body);
  });

  it('reads the client address through X-Forwarded-For from a trusted proxy (loopback here)', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id], addressFilterType: 'whitelist', addresses: ['10.1.2.0/24'] });
    const since = lastSeq();
    const r = await authAs(d.id, k.accessKey.key, k.secret, {}, { 'x-forwarded-for': '10.1.2.3' });
    expect(r.status, r.text).toBe(200);
    expect(authEvents(d.id, since)[0]).toMatchObject({
      result: 'allowed',
      sourceAddress: '10.1.2.3',
      forwardedFor: '10.1.2.3',
    });
  });

  it('ignores X-Forwarded-For from a peer that is not in the trusted-proxy list it was given', async () => {
    const other = await startHarness({ routes: (rt) => losantApiRoutes({ ...rt, trustedProxies: ['192.0.2.0/24'] }) });
    try {
      const d = await other.device();
      const k = await other.key({ deviceIds: [d.id], addressFilterType: 'whitelist', addresses: ['10.1.2.3'] });
      const r = await fetch(`http://127.0.0.1:${other.rt.ports.http}/auth/device`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '10.1.2.3' },
        body: JSON.stringify({ deviceId: d.id, key: k.accessKey.key, secret: k.secret }),
      });
      expect(r.status).toBe(401);
      const e = other.rt.service.feed.list().find((x) => x.action === 'auth' && x.deviceId === d.id);
      expect(e).toMatchObject({ reason: 'address.denied', sourceAddress: '127.0.0.1' });
    } finally {
      await other.stop();
    }
  });
});

describe('POST /applications/{appId}/devices/{deviceId}/state', () => {
  it('stores the state like an MQTT state message and publishes it on the broker', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    const token = await deviceToken(d.id, k.accessKey.key, k.secret);
    const watcher = await h.device();
    const wk = await h.key({});
    const sub = await pool.connect(h.mqttUrl, {
      clientId: watcher.id,
      username: wk.accessKey.key,
      password: wk.secret,
    });
    await subscribe(sub, [`losant/${d.id}/state`]);
    const got = nextMessage(sub, `losant/${d.id}/state`);
    const r = await call('POST', `/applications/${appId}/devices/${d.id}/state`, {
      token,
      body: { data: { temp: 21.5, door: 'open' } },
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({ success: true });
    expect(JSON.parse((await got).payload)).toEqual({ data: { temp: 21.5, door: 'open' } });
    expect(h.rt.service.store.getDevice(d.id)?.lastState?.data).toEqual({ temp: 21.5, door: 'open' });
    expect(h.rt.service.telemetry.history(d.id)).toHaveLength(1);
    const e = h.rt.service.feed
      .list()
      .filter((x) => x.transport === 'http' && x.action === 'publish' && x.topic === `losant/${d.id}/state`);
    expect(e.at(-1)).toMatchObject({
      result: 'allowed',
      reason: 'publish.allowed',
      deviceId: d.id,
      keyId: k.accessKey.id,
    });
  });

  it('accepts an array of states (Losant deviceStateOrStates)', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    const token = await deviceToken(d.id, k.accessKey.key, k.secret);
    const r = await call('POST', `/applications/${appId}/devices/${d.id}/state`, {
      token,
      body: [{ data: { a: 1 }, time: 1700000000000 }, { data: { b: true } }],
    });
    expect(r.status, r.text).toBe(200);
    expect(h.rt.service.telemetry.history(d.id).map((s) => s.data)).toEqual([{ a: 1 }, { b: true }]);
  });

  it('refuses an invalid state with 400 and the reason, and stores nothing', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    const token = await deviceToken(d.id, k.accessKey.key, k.secret);
    const path = `/applications/${appId}/devices/${d.id}/state`;
    expectError(
      await call('POST', path, { token, body: { data: { temp: [1, 2] } } }),
      400,
      'Validation',
      'data.temp must be a number, string, boolean or object',
    );
    expectError(await call('POST', path, { token, body: { temp: 1 } }), 400, 'Validation', '"data" object');
    expectError(
      await call('POST', path, { token, body: [{ data: { ok: 1 } }, { data: { t: 1 }, time: 'yesterday-ish' }] }),
      400,
      'Validation',
      'deviceState[1]',
    );
    expectError(await call('POST', path, { token, raw: '{"data":' }), 400, 'BadRequest', 'not valid JSON');
    expect(h.rt.service.telemetry.history(d.id)).toHaveLength(0);
    expect(
      h.rt.service.feed.list().some((e) => e.action === 'state' && e.reason === 'state.invalid' && e.deviceId === d.id),
    ).toBe(true);
  });

  it("refuses with 403 a state for a device outside the token key's scope", async () => {
    const d = await h.device();
    const other = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    const token = await deviceToken(d.id, k.accessKey.key, k.secret);
    expectError(
      await call('POST', `/applications/${appId}/devices/${other.id}/state`, { token, body: { data: { x: 1 } } }),
      403,
      'Forbidden',
      other.id,
    );
    expect(h.rt.service.telemetry.history(other.id)).toHaveLength(0);
    const e = h.rt.service.feed
      .list()
      .filter((x) => x.transport === 'http' && x.topic === `losant/${other.id}/state`)
      .at(-1);
    expect(e).toMatchObject({ action: 'publish', result: 'denied', reason: 'topic.out-of-scope', deviceId: d.id });
  });

  it('lets a gateway report for its peripheral', async () => {
    const gw = await h.device({ deviceClass: 'gateway' });
    const p = await h.device({ deviceClass: 'peripheral', gatewayId: gw.id });
    const k = await h.key({ deviceIds: [gw.id] });
    const token = await deviceToken(gw.id, k.accessKey.key, k.secret);
    const r = await call('POST', `/applications/${appId}/devices/${p.id}/state`, {
      token,
      body: { data: { level: 3 } },
    });
    expect(r.status, r.text).toBe(200);
    expect(h.rt.service.store.getDevice(p.id)?.lastState?.data).toEqual({ level: 3 });
  });

  it('resolves the scope on every request: a device whose tags changed loses access', async () => {
    const d = await h.device({ tags: [{ key: 'site', value: 'north' }] });
    const k = await h.key({ deviceTags: [{ key: 'site', value: 'north' }] });
    const token = await deviceToken(d.id, k.accessKey.key, k.secret);
    const path = `/applications/${appId}/devices/${d.id}/state`;
    expect((await call('POST', path, { token, body: { data: { n: 1 } } })).status).toBe(200);
    await h.rt.service.devices.setTags(d.id, [{ key: 'site', value: 'south' }]);
    expectError(await call('POST', path, { token, body: { data: { n: 2 } } }), 403, 'Forbidden');
  });

  it('re-checks the key on every request: inactive, changed since issue or deleted → 401', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    const token = await deviceToken(d.id, k.accessKey.key, k.secret);
    const path = `/applications/${appId}/devices/${d.id}/state`;
    await h.rt.service.keys.update(k.accessKey.id, { status: 'inactive' });
    expectError(await call('POST', path, { token, body: { data: { n: 1 } } }), 401, 'Unauthorized', 'inactive');
    // Switched back on: a token issued before the switch-off stays dead (issue 12); a new one works.
    await h.rt.service.keys.update(k.accessKey.id, { status: 'active' });
    expectError(await call('POST', path, { token, body: { data: { n: 1 } } }), 401, 'Unauthorized', 'key.changed');
    const fresh = await deviceToken(d.id, k.accessKey.key, k.secret);
    expect((await call('POST', path, { token: fresh, body: { data: { n: 1 } } })).status).toBe(200);
    await h.rt.service.keys.remove(k.accessKey.id);
    expectError(await call('POST', path, { token: fresh, body: { data: { n: 1 } } }), 401, 'Unauthorized', 'deleted');
  });

  it('refuses an expired token (tokenTTL 1, the API clock moved on)', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    clockMs = Math.floor(Date.now() / 1000) * 1000;
    const token = await deviceToken(d.id, k.accessKey.key, k.secret, { tokenTTL: 1 });
    const path = `/applications/${appId}/devices/${d.id}/state`;
    clockMs += 999;
    expect((await call('POST', path, { token, body: { data: { n: 1 } } })).status).toBe(200);
    clockMs += 1;
    expectError(await call('POST', path, { token, body: { data: { n: 2 } } }), 401, 'Unauthorized', 'expired');
  });

  it('refuses missing, garbage, tampered and foreign tokens with 401', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    const token = await deviceToken(d.id, k.accessKey.key, k.secret);
    const path = `/applications/${appId}/devices/${d.id}/state`;
    const body = { data: { n: 1 } };
    expectError(await call('POST', path, { body }), 401, 'Unauthorized', 'missing device token');
    expectError(await call('POST', path, { token: 'not.a.jwt', body }), 401, 'Unauthorized');
    const [hd, , sig] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...jwtPayload(token), exp: 4102444800 })).toString('base64url');
    expectError(await call('POST', path, { token: `${hd}.${forged}.${sig}`, body }), 401, 'Unauthorized', 'signature');
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    expectError(
      await call('POST', path, { token: `${none}.${token.split('.')[1]}.${sig}`, body }),
      401,
      'Unauthorized',
    );
    // A token from another data directory (another pepper) does not verify here.
    const other = await startHarness({ routes: (rt) => losantApiRoutes(rt) });
    try {
      const od = await other.device();
      const ok = await other.key({ deviceIds: [od.id] });
      const r = await fetch(`http://127.0.0.1:${other.rt.ports.http}/auth/device`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ deviceId: od.id, key: ok.accessKey.key, secret: ok.secret }),
      });
      const foreign = ((await r.json()) as { token: string }).token;
      expectError(
        await call('POST', `/applications/${appId}/devices/${od.id}/state`, { token: foreign, body }),
        401,
        'Unauthorized',
        'signature',
      );
    } finally {
      await other.stop();
    }
  });

  it('404 for another application id or an unknown device; the admin token posts as the platform', async () => {
    const d = await h.device();
    const k = await h.key({});
    const token = await deviceToken(d.id, k.accessKey.key, k.secret);
    expectError(
      await call('POST', `/applications/${hex24(5)}/devices/${d.id}/state`, { token, body: { data: { n: 1 } } }),
      404,
      'NotFound',
      'Application',
    );
    expectError(
      await call('POST', `/applications/${appId}/devices/${hex24(6)}/state`, { token, body: { data: { n: 1 } } }),
      404,
      'NotFound',
      'Device',
    );
    expectError(
      await call('POST', `/applications/${appId}/devices/nope/state`, { token, body: { data: { n: 1 } } }),
      404,
      'NotFound',
      'Device',
    );
    const r = await call('POST', `/applications/${appId}/devices/${d.id}/state`, {
      token: admin,
      body: { data: { via: 'admin' } },
    });
    expect(r.status, r.text).toBe(200);
    expect(h.rt.service.store.getDevice(d.id)?.lastState?.data).toEqual({ via: 'admin' });
  });
});

describe('GET /applications/{appId}/devices/{deviceId}/command', () => {
  async function sendCommands(deviceId: string, names: string[]): Promise<void> {
    for (const name of names) {
      const seen = new Promise<void>((resolve) => {
        const off = h.rt.service.events.on('device.command', (c) => {
          if (c.deviceId === deviceId && c.command.name === name) {
            off();
            resolve();
          }
        });
      });
      await h.rt.service.telemetry.sendCommand(deviceId, { name, payload: { n: name } });
      // 5 s: names the awaited event if it never comes (it takes ms); see helpers/mqtt-clients.ts
      await within(seen, 5000, `command ${name}`);
    }
  }

  it('lists recent commands (Losant defaults: newest first, limit 1), scope-checked', async () => {
    const d = await h.device();
    const other = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    const token = await deviceToken(d.id, k.accessKey.key, k.secret);
    await sendCommands(d.id, ['first', 'second', 'third']);
    const path = `/applications/${appId}/devices/${d.id}/command`;
    const one = await call('GET', path, { token });
    expect(one.status, one.text).toBe(200);
    expect(one.body).toHaveLength(1);
    expect(one.body[0]).toMatchObject({ name: 'third', payload: { n: 'third' } });
    expect(Date.parse(one.body[0].time)).not.toBeNaN();
    const all = await call('GET', `${path}?limit=10&sortDirection=asc`, { token });
    expect(all.body.map((c: { name: string }) => c.name)).toEqual(['first', 'second', 'third']);
    const future = await call('GET', `${path}?limit=10&since=${Date.now() + 60_000}`, { token });
    expect(future.body).toEqual([]);
    expectError(await call('GET', `${path}?limit=0`, { token }), 400, 'Validation', 'limit');
    expectError(await call('GET', `${path}?sortDirection=up`, { token }), 400, 'Validation', 'sortDirection');
    expectError(await call('GET', `/applications/${appId}/devices/${other.id}/command`, { token }), 403, 'Forbidden');
    expectError(await call('GET', path), 401, 'Unauthorized');
    const byAdmin = await call('GET', `${path}?limit=2`, { token: admin });
    expect(byAdmin.body.map((c: { name: string }) => c.name)).toEqual(['third', 'second']);
  });
});

describe('keys: /applications/{appId}/keys', () => {
  const keysPath = (): string => `/applications/${appId}/keys`;

  it('needs the admin token: 401 without or wrong, 403 for a device token', async () => {
    expectError(await call('GET', keysPath()), 401, 'Unauthorized', 'admin token');
    expectError(await call('GET', keysPath(), { token: 'f'.repeat(48) }), 401, 'Unauthorized', 'admin token');
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    const token = await deviceToken(d.id, k.accessKey.key, k.secret);
    expectError(await call('GET', keysPath(), { token }), 403, 'Forbidden');
    expectError(await call('POST', keysPath(), { token, body: {} }), 403, 'Forbidden');
  });

  it('refuses a key body that is no object, or sets createdVia, naming the field and the value (400 Validation)', async () => {
    expectError(
      await call('POST', keysPath(), { token: admin, body: [1] }),
      400,
      'Validation',
      'body: the access key must be a JSON object (got [1])',
    );
    expectError(
      await call('POST', keysPath(), { token: admin, body: { name: 'k', createdVia: 'cli' } }),
      400,
      'Validation',
      'createdVia: set by Keyport (keys made through this API are createdVia "api")',
    );
    expectError(
      await call('POST', keysPath(), { token: admin, body: { status: 'paused' } }),
      400,
      'Validation',
      'status',
      'paused',
    );
    const k = await h.key({});
    expectError(
      await call('PATCH', `${keysPath()}/${k.accessKey.id}`, { token: admin, body: 'inactive' }),
      400,
      'Validation',
      'body: the access key update must be a JSON object (got "inactive")',
    );
  });

  it("creates (201, secret once), reads, patches and deletes a key in Losant's shape", async () => {
    const d = await h.device();
    const created = await call('POST', keysPath(), {
      token: admin,
      body: { name: 'probe', description: 'thermostat key', deviceIds: [d.id], filterType: 'all' },
    });
    expect(created.status, created.text).toBe(201);
    const c = created.body;
    expect(c).toMatchObject({
      applicationId: appId,
      name: 'probe',
      description: 'thermostat key',
      deviceIds: [d.id],
      status: 'active',
      filterType: 'all',
      createdVia: 'api',
    });
    expect(c.id).toMatch(/^[0-9a-f]{24}$/);
    expect(c.applicationKeyId).toBe(c.id);
    expect(c.secret).toMatch(/^[0-9a-f]{64}$/);
    expect(c.key).toMatch(/^[0-9a-f-]{36}$/);

    const got = await call('GET', `${keysPath()}/${c.id}`, { token: admin });
    expect(got.status).toBe(200);
    expect(got.body.secret).toBeUndefined();
    expect(got.text).not.toContain(c.secret);
    expect(got.body).toMatchObject({ id: c.id, applicationKeyId: c.id, applicationId: appId, key: c.key });

    const patched = await call('PATCH', `${keysPath()}/${c.id}`, {
      token: admin,
      body: { status: 'inactive', description: 'retired' },
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({ status: 'inactive', description: 'retired', deviceIds: [d.id] });
    expectError(
      await call('PATCH', `${keysPath()}/${c.id}`, { token: admin, body: { deviceIds: [] } }),
      400,
      'Validation',
      'deviceIds',
    );
    expectError(
      await call('PATCH', `${keysPath()}/${c.id}`, { token: admin, body: { deviceTags: [{ key: 'a', value: 'b' }] } }),
      400,
      'Validation',
      'deviceTags',
    );
    expectError(
      await call('PATCH', `${keysPath()}/${c.id}`, { token: admin, body: { colour: 'red' } }),
      400,
      'Validation',
      'colour',
    );

    const del = await call('DELETE', `${keysPath()}/${c.id}`, { token: admin });
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ success: true });
    expectError(await call('GET', `${keysPath()}/${c.id}`, { token: admin }), 404, 'NotFound', 'Application key');
    expectError(await call('DELETE', `${keysPath()}/${c.id}`, { token: admin }), 404, 'NotFound');
    expectError(
      await call('PATCH', `${keysPath()}/${c.id}`, { token: admin, body: { status: 'active' } }),
      404,
      'NotFound',
    );
  });

  it('refuses bad fields with 400 naming the field', async () => {
    expectError(
      await call('POST', keysPath(), { token: admin, body: { filterType: 'bogus' } }),
      400,
      'Validation',
      'filterType',
    );
    expectError(
      await call('POST', keysPath(), { token: admin, body: { filterType: 'whitelist', pubTopics: ['$SYS/x'] } }),
      400,
      'Validation',
      'pubTopics',
    );
    expectError(
      await call('POST', keysPath(), { token: admin, body: { deviceIds: ['xyz'] } }),
      400,
      'Validation',
      'deviceIds[0]',
    );
    expectError(
      await call('POST', keysPath(), { token: admin, body: { deviceIds: [hex24(9)] } }),
      400,
      'Validation',
      'deviceIds',
    );
    expectError(
      await call('POST', keysPath(), { token: admin, body: { createdVia: 'cli' } }),
      400,
      'Validation',
      'createdVia',
    );
    expectError(
      await call('POST', keysPath(), {
        token: admin,
        body: { addressFilterType: 'whitelist', addresses: ['300.1.1.1'] },
      }),
      400,
      'Validation',
      'addresses',
    );
    expectError(await call('POST', keysPath(), { token: admin, body: 'just a string' }), 400, 'Validation', 'body');
  });

  it('lists with sortField, sortDirection, page, perPage, filterField/filter globs and the advanced query', async () => {
    const other = await startHarness({ routes: (rt) => losantApiRoutes(rt) });
    try {
      const o = `http://127.0.0.1:${other.rt.ports.http}`;
      const oApp = other.rt.service.applicationId;
      const auth = { authorization: `Bearer ${other.rt.adminToken}` };
      const get = async (qs: string): Promise<Reply> => {
        const r = await fetch(`${o}/applications/${oApp}/keys${qs}`, { headers: auth });
        const text = await r.text();
        return { status: r.status, body: JSON.parse(text), text };
      };
      const names = ['alpha thermostat', 'beta Thermostat', 'gamma door', 'delta door', 'epsilon'];
      const made = [];
      for (const name of names)
        made.push(
          await other.key({
            name,
            status: name.startsWith('delta') ? 'inactive' : 'active',
            ...(name.includes('door') ? { deviceTags: [{ key: 'type', value: 'door' }] } : {}),
          }),
        );

      const all = await get('');
      expect(all.status).toBe(200);
      expect(all.body).toMatchObject({
        count: 5,
        totalCount: 5,
        perPage: 100,
        page: 0,
        sortField: 'creationDate',
        sortDirection: 'desc',
        applicationId: oApp,
      });
      expect(all.body.items[0]).toMatchObject({ applicationId: oApp });
      expect(all.text).not.toMatch(/secret/i);

      const byName = await get('?sortField=name&sortDirection=asc&perPage=2&page=1');
      expect(byName.body).toMatchObject({
        count: 2,
        totalCount: 5,
        perPage: 2,
        page: 1,
        sortField: 'name',
        sortDirection: 'asc',
      });
      expect(byName.body.items.map((k: { name: string }) => k.name)).toEqual(['delta door', 'epsilon']);

      const keySorted = await get('?sortField=key&sortDirection=ASC');
      const keys = keySorted.body.items.map((k: { key: string }) => k.key);
      expect(keys).toEqual([...keys].sort());

      const inactive = await get('?filterField=status&filter=inact*');
      expect(inactive.body.items.map((k: { name: string }) => k.name)).toEqual(['delta door']);
      expect(inactive.body).toMatchObject({ filterField: 'status', filter: 'inact*', totalCount: 1 });

      const prefix = (made[0]?.accessKey.key ?? '').slice(0, 8);
      const byKey = await get(`?filterField=key&filter=${prefix}*`);
      expect(byKey.body.items.map((k: { id: string }) => k.id)).toEqual([made[0]?.accessKey.id]);

      const q = encodeURIComponent(
        JSON.stringify({
          $or: [{ name: { $contains: 'thermostat', $ci: true } }, { deviceTags: { type: 'door' } }],
          status: 'active',
        }),
      );
      const queried = await get(
        `?query=${q}&sortField=name&sortDirection=asc&filterField=status&filter=nothing-matches`,
      );
      expect(queried.status, queried.text).toBe(200);
      expect(queried.body.items.map((k: { name: string }) => k.name)).toEqual([
        'alpha thermostat',
        'beta Thermostat',
        'gamma door',
      ]);

      const badQuery = await get(
        `?query=${encodeURIComponent(JSON.stringify({ $or: [{ name: 'x' }, { colour: 'red' }] }))}`,
      );
      expectError(badQuery, 400, 'Validation', 'query.$or[1]', 'colour');
      expectError(await get('?query=%7Bnot-json'), 400, 'Validation', 'query', 'invalid JSON');
      expectError(await get('?sortField=secret'), 400, 'Validation', 'sortField');
      expectError(await get('?sortDirection=sideways'), 400, 'Validation', 'sortDirection');
      expectError(await get('?perPage=0'), 400, 'Validation', 'perPage');
      expectError(await get('?page=-1'), 400, 'Validation', 'page');
      expectError(await get('?filterField=addresses&filter=x'), 400, 'Validation', 'filterField');
    } finally {
      await other.stop();
    }
  });

  it('404 for another application id, an unknown key id or a malformed one', async () => {
    expectError(await call('GET', `/applications/${hex24(3)}/keys`, { token: admin }), 404, 'NotFound', 'Application');
    expectError(
      await call('POST', `/applications/${hex24(3)}/keys`, { token: admin, body: {} }),
      404,
      'NotFound',
      'Application',
    );
    expectError(await call('GET', `${keysPath()}/${hex24(4)}`, { token: admin }), 404, 'NotFound', 'Application key');
    expectError(await call('GET', `${keysPath()}/not-an-id`, { token: admin }), 404, 'NotFound', 'Application key');
  });
});

describe('devices: /applications/{appId}/devices', () => {
  const devicesPath = (): string => `/applications/${appId}/devices`;

  it("creates, reads, patches and deletes a device in Losant's shape", async () => {
    const created = await call('POST', devicesPath(), {
      token: admin,
      body: {
        name: 'Boiler',
        description: 'basement',
        tags: [{ key: 'floor', value: '-1' }],
        deviceClass: 'standalone',
        attributes: [{ name: 'temp', dataType: 'number' }],
      },
    });
    expect(created.status, created.text).toBe(201);
    const d = created.body;
    expect(d).toMatchObject({
      applicationId: appId,
      name: 'Boiler',
      description: 'basement',
      tags: [{ key: 'floor', value: '-1' }],
      deviceClass: 'standalone',
      connectionInfo: { connected: null },
      // Declared attributes are kept and shown (https://docs.losant.com/devices/attributes/).
      attributes: [{ name: 'temp', dataType: 'number' }],
    });
    expect(d.deviceId).toBe(d.id);
    expect(typeof d.creationDate).toBe('string');
    expect(typeof d.lastUpdated).toBe('string');

    const got = await call('GET', `${devicesPath()}/${d.id}`, { token: admin });
    expect(got.body).toMatchObject({ id: d.id, deviceId: d.id, name: 'Boiler' });
    const noConn = await call('GET', `${devicesPath()}/${d.id}?excludeConnectionInfo=true`, { token: admin });
    expect(noConn.body.connectionInfo).toBeUndefined();

    const patched = await call('PATCH', `${devicesPath()}/${d.id}`, {
      token: admin,
      body: { name: 'Boiler 2', tags: [] },
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({ name: 'Boiler 2', tags: [] });
    expectError(
      await call('PATCH', `${devicesPath()}/${d.id}`, { token: admin, body: { deviceClass: 'toaster' } }),
      400,
      'Validation',
      'deviceClass',
    );

    expect((await call('DELETE', `${devicesPath()}/${d.id}`, { token: admin })).body).toEqual({ success: true });
    expectError(await call('GET', `${devicesPath()}/${d.id}`, { token: admin }), 404, 'NotFound', 'Device');
  });

  it('reports connectionInfo as Losant names it once the device has connected over MQTT', async () => {
    const d = await h.device();
    const k = await h.key({ deviceIds: [d.id] });
    const connected = new Promise<void>((resolve) => {
      const off = h.rt.service.events.on('device.status', (dev) => {
        if (dev.id === d.id && dev.connectionStatus?.status === 'connected') {
          off();
          resolve();
        }
      });
    });
    await pool.connect(h.mqttUrl, { clientId: d.id, username: k.accessKey.key, password: k.secret });
    // 5 s: names the awaited event if it never comes (it takes ms); see helpers/mqtt-clients.ts
    await within(connected, 5000, 'connected status');
    const got = await call('GET', `${devicesPath()}/${d.id}`, { token: admin });
    expect(got.body.connectionInfo).toMatchObject({ connected: 1, ipAddress: '127.0.0.1', transport: 'tcp' });
    expect(Date.parse(got.body.connectionInfo.time)).not.toBeNaN();
  });

  it('lists with sort, page, filter glob, deviceClass, tagFilter and the advanced device query', async () => {
    const other = await startHarness({ routes: (rt) => losantApiRoutes(rt) });
    try {
      const o = `http://127.0.0.1:${other.rt.ports.http}`;
      const oApp = other.rt.service.applicationId;
      const get = async (qs: string): Promise<Reply> => {
        const r = await fetch(`${o}/applications/${oApp}/devices${qs}`, {
          headers: { authorization: `Bearer ${other.rt.adminToken}` },
        });
        const text = await r.text();
        return { status: r.status, body: JSON.parse(text), text };
      };
      const gw = await other.device({
        name: 'Gateway A',
        deviceClass: 'gateway',
        tags: [{ key: 'floor', value: '1' }],
      });
      await other.device({
        name: 'Sensor 1',
        deviceClass: 'peripheral',
        gatewayId: gw.id,
        tags: [{ key: 'floor', value: '1' }],
      });
      await other.device({ name: 'Sensor 2', deviceClass: 'peripheral', tags: [{ key: 'floor', value: '2' }] });
      await other.device({
        name: 'Thermostat',
        tags: [
          { key: 'floor', value: '2' },
          { key: 'type', value: 'hvac' },
        ],
      });
      const names = (r: Reply): string[] => r.body.items.map((d: { name: string }) => d.name);

      const all = await get('');
      expect(all.body).toMatchObject({
        count: 4,
        totalCount: 4,
        page: 0,
        perPage: 100,
        sortField: 'name',
        sortDirection: 'asc',
        applicationId: oApp,
      });
      expect(names(all)).toEqual(['Gateway A', 'Sensor 1', 'Sensor 2', 'Thermostat']);
      expect(names(await get('?sortDirection=desc&perPage=1&page=1'))).toEqual(['Sensor 2']);
      expect(names(await get('?filterField=name&filter=sensor*'))).toEqual(['Sensor 1', 'Sensor 2']);
      expect(names(await get('?filter=*a*'))).toEqual(['Gateway A', 'Thermostat']);
      expect(names(await get('?deviceClass=peripheral'))).toEqual(['Sensor 1', 'Sensor 2']);
      expect(names(await get('?deviceClass%5B0%5D=gateway&deviceClass%5B1%5D=standalone'))).toEqual([
        'Gateway A',
        'Thermostat',
      ]);
      expect(names(await get('?tagFilter%5B0%5D%5Bkey%5D=floor&tagFilter%5B0%5D%5Bvalue%5D=2'))).toEqual([
        'Sensor 2',
        'Thermostat',
      ]);
      expect(names(await get('?tagFilter%5B0%5D%5Bkey%5D=type'))).toEqual(['Thermostat']);
      const q = encodeURIComponent(
        JSON.stringify({
          $and: [{ tags: { floor: '1' } }, { deviceClass: { $in: ['gateway', 'peripheral'] } }],
          name: { $startsWith: 'sens', $ci: true },
        }),
      );
      expect(names(await get(`?query=${q}`))).toEqual(['Sensor 1']);
      expect(names(await get(`?query=${encodeURIComponent(JSON.stringify({ tags: { $tagKey: 'type' } }))}`))).toEqual([
        'Thermostat',
      ]);
      expect((await get('?excludeConnectionInfo=true')).body.items[0].connectionInfo).toBeUndefined();
      expectError(
        await get(`?query=${encodeURIComponent(JSON.stringify({ tags: { $bogus: 1 } }))}`),
        400,
        'Validation',
        'query.tags',
      );
      expectError(await get('?deviceClass=toaster'), 400, 'Validation', 'deviceClass');
      expectError(await get('?sortField=colour'), 400, 'Validation', 'sortField');
    } finally {
      await other.stop();
    }
  });

  it('refuses __proto__/constructor/prototype in bodies and queries, naming the path (issue 12)', async () => {
    // JSON.stringify cannot write an own __proto__, so the body goes raw, as an attacker would send it.
    expectError(
      await call('POST', devicesPath(), { token: admin, raw: '{"name":"x","__proto__":{"deviceClass":"gateway"}}' }),
      400,
      'BadRequest',
      'body.__proto__: the property name "__proto__" is not allowed',
    );
    expectError(
      await call('POST', devicesPath(), {
        token: admin,
        raw: '{"name":"x","tags":[{"key":"a","value":"b","constructor":1}]}',
      }),
      400,
      'BadRequest',
      'body.tags[0].constructor',
    );
    const q = encodeURIComponent('{"__proto__":{"name":"nothing"}}');
    expectError(
      await call('GET', `${devicesPath()}?query=${q}`, { token: admin }),
      400,
      'Validation',
      'query.__proto__',
    );
  });

  it('refuses bad fields, other applications and unknown ids', async () => {
    expectError(await call('POST', devicesPath(), { token: admin, body: {} }), 400, 'Validation', 'name');
    expectError(
      await call('POST', devicesPath(), { token: admin, body: { name: 'x', tags: [{ key: 'bad key', value: 'v' }] } }),
      400,
      'Validation',
      'tags[0].key',
    );
    expectError(
      await call('POST', devicesPath(), { token: admin, body: { name: 'x', parentId: hex24(1) } }),
      400,
      'Validation',
      'parentId',
    );
    expectError(
      await call('POST', devicesPath(), { token: admin, body: { name: 'x', attributes: 'temp' } }),
      400,
      'Validation',
      'attributes',
    );
    expectError(
      await call('GET', `/applications/${hex24(8)}/devices`, { token: admin }),
      404,
      'NotFound',
      'Application',
    );
    expectError(await call('GET', `${devicesPath()}/${hex24(8)}`, { token: admin }), 404, 'NotFound', 'Device');
    expectError(await call('DELETE', `${devicesPath()}/${hex24(8)}`, { token: admin }), 404, 'NotFound', 'Device');
    expectError(await call('GET', devicesPath()), 401, 'Unauthorized');
  });
});

describe('error shapes', () => {
  it('bad JSON → 400, body too large → 413, unknown route → 404, wrong method → 405; never a stack trace', async () => {
    expectError(
      await call('POST', `/applications/${appId}/keys`, { token: admin, raw: '{"name": "x",' }),
      400,
      'BadRequest',
      'not valid JSON',
    );
    expectError(
      await call('POST', `/applications/${appId}/devices`, { token: admin, raw: 'nul' }),
      400,
      'BadRequest',
      'not valid JSON',
    );
    const huge = JSON.stringify({ name: 'x', description: 'y'.repeat(1024 * 1024 + 10) });
    expectError(await call('POST', `/applications/${appId}/keys`, { token: admin, raw: huge }), 413, 'PayloadTooLarge');
    expectError(
      await call('POST', '/auth/device', { raw: JSON.stringify({ deviceId: 'x', pad: 'z'.repeat(20_000) }) }),
      413,
      'PayloadTooLarge',
    );
    // Chunked, no Content-Length: the limit applies while reading.
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({ pull: (c) => (sent++ < 40 ? c.enqueue(chunk) : c.close()) });
    const chunked = await fetch(`${base}/applications/${appId}/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}` },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    const chunkedText = await chunked.text();
    expectError({ status: chunked.status, body: JSON.parse(chunkedText), text: chunkedText }, 413, 'PayloadTooLarge');
    expectError(await call('GET', `/applications/${appId}/flows`, { token: admin }), 404, 'NotFound');
    expectError(await call('GET', '/applications', { token: admin }), 404, 'NotFound');
    expectError(
      await call('PUT', `/applications/${appId}/keys`, { token: admin, body: {} }),
      405,
      'MethodNotAllowed',
      'GET or POST',
    );
    expectError(await call('GET', '/auth/device'), 405, 'MethodNotAllowed');
    // The server still answers after all that.
    expect((await call('GET', `/applications/${appId}/keys`, { token: admin })).status).toBe(200);
  });
});

// `keyport explain` in this process (main(argv, io)): exit 0 when all asked is allowed, 3 when
// anything is denied, 2 for bad usage (a secret on the command line included); --json is the
// same document the contract method returns.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Explanation } from '../../src-main/contract.ts';
import type { AccessKey, Device } from '../../src-main/core/types.ts';
import { keyport, keyportJson, tempDir } from '../helpers/cli.ts';

let dir: string;
let remove: () => Promise<void>;
let dev: Device;
let other: Device;
let key: AccessKey;

beforeAll(async () => {
  ({ dir, remove } = await tempDir('keyport-explain-'));
  dev = await keyportJson<Device>(dir, ['devices', 'create', '--name', 'thermo', '--json']);
  other = await keyportJson<Device>(dir, ['devices', 'create', '--name', 'other', '--json']);
  const created = await keyportJson<{ accessKey: AccessKey }>(dir, [
    'keys',
    'create',
    '--device',
    dev.id,
    '--topics',
    'whitelist',
    '--pub-topic',
    'sensors/+',
    '--sub-topic',
    'cmd/#',
    '--json',
  ]);
  key = created.accessKey;
});
afterAll(() => remove?.());

describe('keyport explain', () => {
  it('exits 0 and prints the chain when everything asked is allowed', async () => {
    const r = await keyport(dir, [
      'explain',
      '--key',
      key.id,
      '--device',
      dev.id,
      '--publish',
      'sensors/t',
      '--subscribe',
      'cmd/#',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('CONNECT: accepted (connect.accepted, CONNACK 0)');
    expect(r.stdout).toMatch(/skip secret\s+no secret given/);
    expect(r.stdout).toContain('PUBLISH "sensors/t": allowed (publish.allowed)');
  });

  it('exits 3 when anything is denied, naming the failed check; the key itself works as --key too', async () => {
    const r = await keyport(dir, ['explain', '--key', key.key, '--device', other.id, '--publish', 'other/t']);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/FAIL device restriction\s+device [0-9a-f]{24} does not match/);
    expect(r.stdout).toContain('[not reached: the CONNECT is refused]');
  });

  it('--json prints the explanation document', async () => {
    const r = await keyport(dir, [
      'explain',
      '--key',
      key.id,
      '--device',
      dev.id,
      '--address',
      '10.0.0.1',
      '--publish',
      'x/y',
      '--json',
    ]);
    expect(r.code).toBe(3);
    const e = JSON.parse(r.stdout) as Explanation;
    expect(e.connect.decision.reason).toBe('connect.accepted');
    expect(e.topics[0]?.decision).toMatchObject({ allowed: false, reason: 'topic.not-whitelisted' });
  });

  it.each([
    [['--device', 'x'], '--key ID|KEY is required'],
    [['--key', 'k'], '--device ID is required'],
    [['--key', 'k', '--device', 'd', '--secret', 's'], 'explain takes no secret'],
    [['--key', 'k', '--device', 'd', '--transport', 'udp'], '--transport must be tcp, ws or tls'],
    [['--key', 'k', '--device', 'd', '--forwarded-for', '1.2.3.4'], '--forwarded-for goes with --transport ws'],
    [['--key', 'ffffffffffffffffffffffff', '--device', 'd'], 'no access key with id'],
  ])('exits 2 for bad usage: %j', async (args, message) => {
    const r = await keyport(dir, ['explain', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });
});

describe('keyport keys lint / keys matrix', () => {
  it('keys create warns on stderr with the linter findings (an all-devices key)', async () => {
    const r = await keyport(dir, ['keys', 'create', '--all-devices', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('key.all-devices: the key admits every device');
    expect(r.stderr).toContain('fix: ');
    expect(r.stderr).not.toContain('key.never-used'); // a new key is not yet "unused"
  });

  it('keys lint ID --json lists findings with code, message and fix; a bad id exits 2', async () => {
    const reports = await keyportJson<Array<{ keyId: string; findings: Array<{ code: string; fix: string }> }>>(dir, [
      'keys',
      'lint',
      key.id,
      '--json',
    ]);
    expect(reports).toHaveLength(1);
    expect(reports[0]?.findings.map((f) => f.code)).toContain('key.never-used');
    expect((await keyport(dir, ['keys', 'lint', 'nope'])).code).toBe(2);
  });

  it('keys matrix ID --csv prints one row per device', async () => {
    const r = await keyport(dir, ['keys', 'matrix', key.id, '--csv']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\r\n');
    expect(lines[0]).toContain('"connect","publish state","subscribe command"');
    expect(lines.find((l) => l.startsWith(`"${dev.id}"`))).toContain('"allowed"');
    expect(lines.find((l) => l.startsWith(`"${other.id}"`))).toContain('"denied (device.out-of-scope)"');
  });
});

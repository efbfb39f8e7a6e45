// `keyport simulate` in this process (main(argv, io)), against a Keyport broker on port 0: through
// the server owning the data directory (outcomes from its decision feed), with --json, a small
// fleet, --url straight at the broker (client-side outcomes), every source of the secret, and bad
// flags (exit 2). Runs end on an event (SIGTERM once the awaited line is printed, see `until` in
// helpers/cli.ts); the --duration they also pass only ends a run whose line never came.
import { EventEmitter } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src-main/cli/main.ts';
import type { AccessKey, Device } from '../../src-main/core/types.ts';
import { keyport, tempDir, type CliResult } from '../helpers/cli.ts';
import { startHarness, type Harness } from '../helpers/runtime-harness.ts';

let h: Harness;
let device: Device;
let key: { accessKey: AccessKey; secret: string };
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  h = await startHarness();
  device = await h.device({ name: 'cli-thermo' });
  key = await h.key({ deviceIds: [device.id] });
});
afterAll(async () => {
  await Promise.all(cleanups.map((c) => c()));
  await h?.stop();
});

/** The device's id and key; the secret goes in the environment (KEYPORT_SECRET). */
const creds = () => ['--device', device.id, '--key', key.accessKey.key];
const secretEnv = () => ({ env: { KEYPORT_SECRET: key.secret } });
/** 15 s: a backstop that ends a run whose awaited line never came; the test then fails on its output. */
const BACKSTOP = ['--duration', '15'];
const has = (re: RegExp) => (out: string) => re.test(out);

describe('keyport simulate', () => {
  it('through the running server: prints the accepted outcome as it happens, then a summary by reason code', async () => {
    const r = await keyport(
      h.dataDir,
      [
        'simulate',
        ...creds(),
        '--every',
        '0.3',
        ...BACKSTOP,
        '--attr',
        'temp=float:18..26:1',
        '--attr',
        'mode=static:eco',
      ],
      { ...secretEnv(), until: has(/cli-thermo publish allowed .*\n/) },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^simulating device [0-9a-f]{24} against the Keyport server at http:\/\/127\.0\.0\.1:\d+ \(pid \d+\); outcomes from its decision feed$/,
    );
    const accepted = lines.findIndex((l) =>
      /^\d\d:\d\d:\d\d cli-thermo connect accepted \(connect\.accepted\)$/.test(l),
    );
    const summary = lines.findIndex((l) =>
      /^summary after [\d.]+ s: 1 device\(s\), 1 connected when stopped; outcomes by reason code:$/.test(l),
    );
    expect(accepted, r.stdout).toBeGreaterThan(0);
    expect(summary).toBeGreaterThan(accepted);
    expect(
      lines.some((l) => /cli-thermo subscribe granted losant\/[0-9a-f]{24}\/command \(subscribe\.granted\)/.test(l)),
    ).toBe(true);
    expect(lines.slice(summary + 1)).toContain('  connect.accepted   1');
    expect(lines.slice(summary + 1).some((l) => /^ {2}publish\.allowed {4}\d+$/.test(l))).toBe(true);
    // What it reported reached the broker as this device's state.
    expect(h.rt.service.store.getDevice(device.id)?.lastState?.data).toMatchObject({ mode: 'eco' });
  });

  it('--json: one JSON object per line, outcomes from the broker, a summary last', async () => {
    const r = await keyport(
      h.dataDir,
      ['simulate', ...creds(), '--transport', 'ws', '--every', '0.3', ...BACKSTOP, '--json'],
      {
        ...secretEnv(),
        until: (out) => out.includes('"reason":"connect.accepted"') && out.includes('"reason":"subscribe.granted"'),
      },
    );
    expect(r.code, r.stderr).toBe(0);
    const objs = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objs[0]).toMatchObject({ type: 'info' });
    expect(objs.find((o) => o.type === 'outcome' && o.kind === 'connect')).toMatchObject({
      ok: true,
      reason: 'connect.accepted',
      source: 'broker',
      deviceId: device.id,
      sim: 'cli-thermo',
    });
    expect(objs.at(-1)).toMatchObject({
      type: 'summary',
      devices: 1,
      connected: 1,
      byReason: { 'connect.accepted': 1, 'subscribe.granted': 1 },
    });
    expect(JSON.stringify(objs)).not.toContain(key.secret);
  });

  it('--fleet N through the server: N devices with their own keys, then removed', async () => {
    const before = h.rt.service.keys.list().length;
    const r = await keyport(
      h.dataDir,
      ['simulate', '--fleet', '3', '--tag', 'site=lab', '--every', '0.5', ...BACKSTOP, '--json'],
      { until: (out) => out.split('"reason":"connect.accepted"').length - 1 >= 3 },
    );
    expect(r.code, r.stderr).toBe(0);
    const objs = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objs.filter((o) => o.type === 'progress' && o.phase === 'creating').at(-1)).toMatchObject({
      created: 3,
      size: 3,
    });
    const summary = objs.find((o) => o.type === 'summary');
    expect(summary).toMatchObject({ devices: 3, connected: 3, byReason: { 'connect.accepted': 3 } });
    const connected = new Set(
      objs.filter((o) => o.type === 'outcome' && o.reason === 'connect.accepted').map((o) => o.deviceId),
    );
    expect(connected.size).toBe(3);
    expect(objs.at(-1)).toMatchObject({ type: 'info', removed: 3 });
    expect(h.rt.service.keys.list()).toHaveLength(before);
    expect(h.rt.service.devices.list().filter((d) => d.name.startsWith('Fleet device'))).toHaveLength(0);
  });

  it('--url straight at the broker: works without a Keyport data directory, client-side outcomes', async () => {
    const t = await tempDir('keyport-sim-url-');
    cleanups.push(t.remove);
    const r = await keyport(t.dir, ['simulate', ...creds(), '--url', h.mqttUrl, '--every', '0.3', ...BACKSTOP], {
      ...secretEnv(),
      until: has(/subscribe granted .*suback\.granted/),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `^simulating device ${device.id} against ${h.mqttUrl.replace(/[.]/g, '\\.')} \\(client-side outcomes only\\)$`,
        'm',
      ),
    );
    expect(r.stdout).toMatch(
      new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${device.id} connect accepted \\(connack\\.accepted, client-side\\)$`, 'm'),
    );
    expect(r.stdout).toMatch(/subscribe granted losant\/[0-9a-f]{24}\/command \(suback\.granted, client-side\)/);
    expect(r.stdout).toMatch(/^ {2}connack\.accepted +1$/m);
    // The broker saw it all the same.
    expect(
      h.rt.service.feed
        .list()
        .some(
          (e) => e.deviceId === device.id && e.action === 'connect' && e.result === 'allowed' && e.transport === 'tcp',
        ),
    ).toBe(true);
  });

  it.each<[string[], RegExp]>([
    [
      ['--every', '0.3'],
      /^keyport: simulate needs either --device ID --key K with a secret \(--secret-file F\), or --fleet N$/,
    ],
    [['--device', 'x'], /^keyport: --device needs --key K/],
    [['--device', 'x', '--key', 'k', '--every', '0'], /^keyport: --every must be a number from 0\.1 to 86400/],
    [['--fleet', '2', '--bogus'], /^keyport: unknown option --bogus/],
    [['--device', 'x', '--key', 'k', '--transport', 'udp'], /^keyport: --transport must be tcp or ws/],
    [
      ['--device', 'x', '--key', 'k', '--attr', 'temp=float:9..1'],
      /^keyport: --attr: attributes\.temp\.max: must be ≥ min$/,
    ],
    [['--device', 'x', '--key', 'k', '--attr', 'temp=noise'], /^keyport: --attr temp: unknown generator "noise"/],
    [
      ['--device', 'x', '--key', 'k', '--attr', 'no-equals'],
      /^keyport: --attr "no-equals" must look like name=generator/,
    ],
    [['--device', 'x', '--key', 'k', '--url', 'http://example'], /^keyport: --url: must start with mqtt:\/\//],
    [
      ['--device', 'x', '--key', 'k', '--source', '10.0.0.1'],
      /^keyport: --source: over TCP must be a local 127\.x\.y\.z address/,
    ],
    [['--device', 'x', '--key', 'k', '--duration', 'soon'], /^keyport: --duration must be a number/],
    [['--fleet', '0'], /^keyport: --fleet must be a whole number from 1 to 2000/],
    [['--fleet', '2', '--key', 'k'], /^keyport: --key is for --device/],
    [['--fleet', '2', '--secret-file', 'f.env'], /^keyport: --secret-file is for --device/],
    [['--fleet', '2', '--tag', 'novalue'], /^keyport: --tag "novalue" must look like key=value/],
    [['--device', 'x', '--key', 'k', '--tag', 'a=b'], /^keyport: --tag, --name-prefix and --keep are for --fleet$/],
  ])('bad flags %j: exit code 2 with one line on stderr', async (args, message) => {
    const r = await keyport(h.dataDir, ['simulate', ...args], secretEnv());
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });
});

describe('keyport simulate: where the secret comes from (issue 12)', () => {
  let out: string;
  beforeAll(async () => {
    const t = await tempDir('keyport-sim-secret-');
    cleanups.push(t.remove);
    out = t.dir;
  });

  /** Runs against the broker (--url: client-side outcomes) until the device is connected. */
  const connectOnce = (args: string[], opts: { env?: Record<string, string>; stdin?: string } = {}) =>
    keyport(out, ['simulate', ...args, '--url', h.mqttUrl, '--every', '5', ...BACKSTOP], {
      ...opts,
      until: has(/connect accepted \(connack\.accepted, client-side\)/),
    });

  function connected(r: CliResult): void {
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ connect accepted \(connack\.accepted, client-side\)$/m);
    expect(r.stdout).not.toContain(key.secret);
  }

  it.each(['env', 'json', 'c-header'])(
    '--secret-file FILE written by keys create --save --format %s: key and device come from the file, no warning',
    async (format) => {
      const file = join(out, `device-${format}.secret`);
      // Through the running server, as a user would: the secret lands only in the file.
      const made = await keyport(h.dataDir, [
        'keys',
        'create',
        '--device',
        device.id,
        '--save',
        file,
        '--format',
        format,
        '--json',
      ]);
      expect(made.code, made.stderr).toBe(0);
      const r = await connectOnce(['--secret-file', file]);
      connected(r);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(new RegExp(`^simulating device ${device.id} against`, 'm'));
    },
  );

  it('KEYPORT_SECRET in the environment: no warning', async () => {
    const r = await connectOnce(creds(), secretEnv());
    connected(r);
    expect(r.stderr).toBe('');
  });

  it('--secret - reads the secret from stdin: no warning', async () => {
    const r = await connectOnce([...creds(), '--secret', '-'], { stdin: `${key.secret}\n` });
    connected(r);
    expect(r.stderr).toBe('');
  });

  it('--secret - from a terminal says it is reading (so the command does not look hung)', async () => {
    const stdin = Object.assign(Readable.from([`${key.secret}\n`]), { isTTY: true });
    let stdout = '';
    let stderr = '';
    const signals = new EventEmitter();
    const code = await main(
      ['simulate', ...creds(), '--secret', '-', '--url', h.mqttUrl, '--every', '5', ...BACKSTOP, '--data', out],
      {
        stdin,
        env: {},
        signals,
        stdout: {
          write: (t: string) => {
            stdout += t;
            if (/connack\.accepted/.test(stdout)) setImmediate(() => signals.emit('SIGTERM'));
            return true;
          },
        },
        stderr: { write: (t: string) => (stderr += t) },
      },
    );
    expect(code, stderr).toBe(0);
    expect(stderr).toBe('keyport: reading the access secret from stdin (end with Ctrl-D)\n');
  });

  it('--secret S still works but warns once on stderr, without echoing the secret', async () => {
    const r = await connectOnce([...creds(), '--secret', key.secret]);
    connected(r);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^keyport: warning: --secret on the command line is visible to other users \(ps/);
    expect(lines[0]).toContain('--secret-file');
    expect(r.stderr).not.toContain(key.secret);
  });

  it.each<[string, (dir: string) => string[], { stdin?: string } | undefined, RegExp]>([
    [
      'no secret at all',
      () => creds(),
      undefined,
      /^keyport: --device needs the access secret: --secret-file FILE, KEYPORT_SECRET/,
    ],
    [
      'a missing file',
      (d) => ['--secret-file', join(d, 'nope.env')],
      undefined,
      /^keyport: --secret-file \S+nope\.env: ENOENT/,
    ],
    [
      'a file that is not a secrets file',
      (d) => {
        writeFileSync(join(d, 'notes.txt'), 'hello\n');
        return ['--secret-file', join(d, 'notes.txt')];
      },
      undefined,
      /^keyport: --secret-file \S+notes\.txt: secrets file has no LOSANT_ACCESS_KEY and LOSANT_ACCESS_SECRET \(expected a file written by keys create --save\)$/,
    ],
    [
      '--key that is not the one in the file',
      (d) => {
        writeFileSync(join(d, 'other.env'), `LOSANT_ACCESS_KEY=other\nLOSANT_ACCESS_SECRET=${'0'.repeat(64)}\n`);
        return ['--device', device.id, '--key', key.accessKey.key, '--secret-file', join(d, 'other.env')];
      },
      undefined,
      /^keyport: --key "[0-9a-f-]+" is not the one in \S+other\.env \("other"\)$/,
    ],
    [
      '--secret-file without a device id in it nor --device',
      (d) => {
        writeFileSync(join(d, 'nodevice.env'), `LOSANT_ACCESS_KEY=k\nLOSANT_ACCESS_SECRET=${'0'.repeat(64)}\n`);
        return ['--secret-file', join(d, 'nodevice.env')];
      },
      undefined,
      /^keyport: --device ID is needed \(\S+nodevice\.env names none\)$/,
    ],
    [
      '--secret with --secret-file',
      (d) => [...creds(), '--secret', '-', '--secret-file', join(d, 'x.env')],
      undefined,
      /^keyport: --secret and --secret-file cannot be combined$/,
    ],
    [
      '--secret - with nothing on stdin',
      () => [...creds(), '--secret', '-'],
      { stdin: '' },
      /^keyport: --secret -: stdin was empty/,
    ],
  ])('%s: exit 2, one line, nothing connects', async (_label, args, opts, message) => {
    const r = await keyport(out, ['simulate', ...args(out), '--url', h.mqttUrl], opts ?? {});
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });
});

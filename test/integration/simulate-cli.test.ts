// `keyport simulate` as a user runs it (a child process), against a Keyport broker on port 0:
// through the server owning the data directory (outcomes from its decision feed), with --json,
// a small fleet, --url straight at the broker (client-side outcomes), and bad flags (exit 2).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src-main/cli/main.ts';
import type { AccessKey, Device } from '../../src-main/core/types.ts';
import { keyport, tempDir } from '../helpers/cli.ts';
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

const creds = () => ['--device', device.id, '--key', key.accessKey.key, '--secret', key.secret];

describe('keyport simulate', () => {
  it('through the running server: prints the accepted outcome as it happens, then a summary by reason code', async () => {
    const r = await keyport(h.dataDir, [
      'simulate',
      ...creds(),
      '--every',
      '0.3',
      '--duration',
      '1',
      '--attr',
      'temp=float:18..26:1',
      '--attr',
      'mode=static:eco',
    ]);
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
    const r = await keyport(h.dataDir, [
      'simulate',
      ...creds(),
      '--transport',
      'ws',
      '--every',
      '0.3',
      '--duration',
      '0.8',
      '--json',
    ]);
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
    const r = await keyport(h.dataDir, [
      'simulate',
      '--fleet',
      '3',
      '--tag',
      'site=lab',
      '--every',
      '0.5',
      '--duration',
      '0.8',
      '--json',
    ]);
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
    const r = await keyport(t.dir, ['simulate', ...creds(), '--url', h.mqttUrl, '--every', '0.3', '--duration', '0.8']);
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

  it('bad flags in a real process: exit 2 with one line on stderr', async () => {
    for (const [args, message] of [
      [
        ['--device', 'x', '--key', 'k', '--secret', 's', '--every', '0'],
        /^keyport: --every must be a number from 0\.1 to 86400/,
      ],
      [['--fleet', '2', '--bogus'], /^keyport: unknown option --bogus/],
    ] as const) {
      const r = await keyport(h.dataDir, ['simulate', ...args]);
      expect(r.code).toBe(2);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(message);
    }
  });

  // The same entry point in this process (spawning a process per case would only add start-up time).
  it.each<[string[], RegExp]>([
    [['--every', '0.3'], /^keyport: simulate needs either --device ID --key K --secret S, or --fleet N$/],
    [['--device', 'x', '--secret', 's'], /^keyport: --device needs --key K/],
    [['--device', 'x', '--key', 'k', '--secret', 's', '--transport', 'udp'], /^keyport: --transport must be tcp or ws/],
    [
      ['--device', 'x', '--key', 'k', '--secret', 's', '--attr', 'temp=float:9..1'],
      /^keyport: --attr: attributes\.temp\.max: must be ≥ min$/,
    ],
    [
      ['--device', 'x', '--key', 'k', '--secret', 's', '--attr', 'temp=noise'],
      /^keyport: --attr temp: unknown generator "noise"/,
    ],
    [
      ['--device', 'x', '--key', 'k', '--secret', 's', '--attr', 'no-equals'],
      /^keyport: --attr "no-equals" must look like name=generator/,
    ],
    [
      ['--device', 'x', '--key', 'k', '--secret', 's', '--url', 'http://example'],
      /^keyport: --url: must start with mqtt:\/\//,
    ],
    [
      ['--device', 'x', '--key', 'k', '--secret', 's', '--source', '10.0.0.1'],
      /^keyport: --source: over TCP must be a local 127\.x\.y\.z address/,
    ],
    [['--device', 'x', '--key', 'k', '--secret', 's', '--duration', 'soon'], /^keyport: --duration must be a number/],
    [['--fleet', '0'], /^keyport: --fleet must be a whole number from 1 to 2000/],
    [['--fleet', '2', '--key', 'k'], /^keyport: --key is for --device/],
    [['--fleet', '2', '--tag', 'novalue'], /^keyport: --tag "novalue" must look like key=value/],
    [
      ['--device', 'x', '--key', 'k', '--secret', 's', '--tag', 'a=b'],
      /^keyport: --tag, --name-prefix and --keep are for --fleet$/,
    ],
  ])('bad flags %j: exit code 2 with one line on stderr', async (args, message) => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['simulate', ...args, '--data', h.dataDir])).toBe(2);
      expect(err.mock.calls).toHaveLength(1);
      expect(String(err.mock.calls[0]?.[0]).trimEnd()).toMatch(message);
    } finally {
      err.mockRestore();
    }
  });
});

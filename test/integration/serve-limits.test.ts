// `keyport serve` limit flags: bad values exit 2 naming the flag; --max-packet is enforced on
// the wire of a real serve process (a PUBLISH over it is refused, one under it PUBACKed).
import { afterAll, describe, expect, it } from 'vitest';
import { keyport, keyportJson, killAllServes, startServe, tempDir } from '../helpers/cli.ts';
import { connectPacket, gen, rawConnect, type RawConnection } from '../helpers/raw-mqtt.ts';

const cleanups: Array<() => Promise<void>> = [];
const open: RawConnection[] = [];
afterAll(async () => {
  for (const c of open) c.destroy();
  await killAllServes();
  for (const c of cleanups) await c();
});

async function newDir(): Promise<string> {
  const t = await tempDir('keyport-limits-');
  cleanups.push(t.remove);
  return t.dir;
}

describe('keyport serve limit flags', () => {
  it.each([
    [['--max-packet', '100'], /^keyport: --max-packet must be a whole number from 128 to 268435455 \(got "100"\)/],
    [['--drain-timeout', '-1'], /--drain-timeout/],
    [['--max-filters', '0'], /--max-filters/],
    [['--max-packet', '8192', '--max-queue', '4096'], /--max-queue \(4096\) must be at least --max-packet \(8192\)/],
    [['--limits', 'strict'], /^keyport: --limits must be "losant" or "off" \(got "strict"\)/],
  ])('%j exits 2 with one line naming the flag', async (args, names) => {
    const dir = await newDir();
    const r = await keyport(dir, ['serve', '--json', ...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(names);
  });

  it('--max-packet 4096: a 5,000-byte PUBLISH closes the connection unacknowledged, 3,000 bytes is PUBACKed', async () => {
    const dir = await newDir();
    const device = await keyportJson<{ id: string }>(dir, ['devices', 'create', '--name', 'limited']);
    const key = await keyportJson<{ accessKey: { key: string }; secret: string }>(dir, [
      'keys',
      'create',
      '--device',
      device.id,
      '--topics',
      'all',
      '--json',
    ]);
    const serve = await startServe(dir, ['--max-packet', '4096']);
    const login = async (): Promise<RawConnection> => {
      const c = await rawConnect('tcp', serve.ready.mqtt);
      open.push(c);
      c.write(connectPacket(device.id, key.accessKey.key, key.secret));
      expect((await c.next((p) => p.cmd === 'connack')).returnCode).toBe(0);
      return c;
    };
    const ok = await login();
    ok.write(gen({ cmd: 'publish', topic: 'lim/a', payload: Buffer.alloc(3000), qos: 1, messageId: 1 }));
    expect(await ok.next((p) => p.cmd === 'puback')).toMatchObject({ messageId: 1 });
    ok.destroy();
    const big = await login();
    big.write(gen({ cmd: 'publish', topic: 'lim/a', payload: Buffer.alloc(5000), qos: 1, messageId: 2 }));
    await big.closed;
    expect(big.received.map((p) => p.cmd)).toEqual(['connack']);
  });
});

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startRuntime, type Runtime, type RuntimeOptions } from '../../../src-main/server/runtime.ts';
import { busyPortOption, startWithPortFallback } from '../../../src-main/shell/port-fallback.ts';
import { ListenError, type ListenerKind } from '../../../src-main/shared/listen-error.ts';
import { STORE_FILE } from '../../../src-main/store/lowdb-store.ts';

/** What a listener's server emits for a taken port (net's own errno error shape). */
const errno = (code: string) => Object.assign(new Error(`listen ${code}`), { code });
const busy = (listener: ListenerKind, port: number) =>
  new ListenError(listener, '127.0.0.1', port, errno('EADDRINUSE'));

describe('busyPortOption', () => {
  it('maps each listener to its option, by the error code (taken or privileged port)', () => {
    expect(busyPortOption(busy('tcp', 1883))).toBe('mqttPort');
    expect(busyPortOption(busy('ws', 8083))).toBe('wsPort');
    expect(busyPortOption(busy('tls', 8883))).toBe('tlsPort');
    expect(busyPortOption(busy('http', 8484))).toBe('httpPort');
    expect(busyPortOption(new ListenError('tcp', '127.0.0.1', 883, errno('EACCES')))).toBe('mqttPort');
  });

  it('never reads the message: a plain error that only says "already in use" is not a busy port', () => {
    const text = new Error(
      'MQTT TCP listener: port 1883 on 127.0.0.1 is already in use (choose another with --mqtt-port, or 0 for any free port)',
    );
    expect(busyPortOption(text)).toBeNull();
    // A ListenError whose fix is not another port (the host is not on this machine).
    expect(busyPortOption(new ListenError('tcp', '10.9.9.9', 1883, errno('EADDRNOTAVAIL')))).toBeNull();
    // Only the name, without the listener and code a ListenError carries.
    expect(busyPortOption(Object.assign(new Error('port in use'), { name: 'ListenError' }))).toBeNull();
  });

  it('leaves every other startup error alone', () => {
    expect(busyPortOption(new Error('/data/keyport.json: not valid JSON: Unexpected token'))).toBeNull();
    expect(
      busyPortOption(new Error('data directory /data is in use by Keyport (pid 42) at http://127.0.0.1:8484')),
    ).toBeNull();
    expect(
      busyPortOption(new Error('MQTT TCP listener: address 10.9.9.9 is not available on this machine (--mqtt-port)')),
    ).toBeNull();
    expect(busyPortOption('already in use --mqtt-port')).toBeNull();
  });
});

describe('startWithPortFallback (fake start)', () => {
  const base: RuntimeOptions = { dataDir: '/d', mqttPort: 1883, wsPort: 8083, tlsPort: 8883, httpPort: 8484 };

  it('retries with port 0 for exactly the busy listener', async () => {
    const start = vi.fn(async (o: RuntimeOptions) => {
      if (o.mqttPort === 1883) throw busy('tcp', 1883);
      if (o.httpPort === 8484) throw busy('http', 8484);
      return 'rt';
    });
    const r = await startWithPortFallback(start, base);
    expect(r).toEqual({ runtime: 'rt', fellBack: ['mqttPort', 'httpPort'] });
    expect(start.mock.calls.at(-1)?.[0]).toEqual({ ...base, mqttPort: 0, httpPort: 0 });
  });

  it('gives up when a listener is busy even on port 0, and on any other error', async () => {
    const alwaysBusy = vi.fn(async () => {
      throw busy('tcp', 0);
    });
    await expect(startWithPortFallback(alwaysBusy, base)).rejects.toThrow(/already in use/);
    expect(alwaysBusy).toHaveBeenCalledTimes(2);
    const corrupt = vi.fn(async () => {
      throw new Error('/d/keyport.json: not valid JSON');
    });
    await expect(startWithPortFallback(corrupt, base)).rejects.toThrow(/not valid JSON/);
    expect(corrupt).toHaveBeenCalledOnce();
  });
});

describe('startWithPortFallback (real runtime)', () => {
  let dataDir: string;
  const servers: Server[] = [];
  let rt: Runtime | undefined;

  const occupy = () =>
    new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port));
      servers.push(s);
    });

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'keyport-fallback-'));
  });
  afterEach(async () => {
    await rt?.close();
    rt = undefined;
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
    await rm(dataDir, { recursive: true, force: true });
  });

  it('moves a busy MQTT and a busy HTTP port to free ones and reports the real ports', async () => {
    const [mqttBusy, httpBusy] = [await occupy(), await occupy()];
    const r = await startWithPortFallback(startRuntime, {
      dataDir,
      mode: 'desktop',
      mqttPort: mqttBusy,
      wsPort: 0,
      tlsPort: 0,
      httpPort: httpBusy,
      log: () => {},
    });
    rt = r.runtime;
    expect(r.fellBack.sort()).toEqual(['httpPort', 'mqttPort']);
    expect(rt.ports.mqtt).toBeGreaterThan(0);
    expect(rt.ports.mqtt).not.toBe(mqttBusy);
    expect(rt.ports.http).not.toBe(httpBusy);
  });

  it('does not retry a corrupt store, and leaves the file as it was', async () => {
    const file = join(dataDir, STORE_FILE);
    await writeFile(file, '{"version": 1, "devices": [oops');
    await expect(
      startWithPortFallback(startRuntime, { dataDir, mqttPort: 0, wsPort: 0, tlsPort: 0, httpPort: 0, log: () => {} }),
    ).rejects.toThrow(STORE_FILE);
    expect(await readFile(file, 'utf8')).toBe('{"version": 1, "devices": [oops');
  });
});

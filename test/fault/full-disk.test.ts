// A full and a read-only disk under a running `keyport serve`, on a real small tmpfs (root only;
// skipped elsewhere). Refused changes answer 507 with a message naming the file and the cause,
// on /rpc, the Losant API and the CLI; the server stays up; nothing refused is ever written; once
// the disk is back the next change is stored, and only it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { readStoreDir } from '../../src-main/store/lowdb-store.ts';
import { keyport, killAllServes, startServeProcess, type ServeRun } from '../helpers/cli.ts';
import { seedDataDir, type StoredFile } from './seed.ts';

function tryMount(dir: string): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const mountPoint = mkdtempSync(join(tmpdir(), 'keyport-fault-disk-'));
const mounted = tryMount(mountPoint);
const dataDir = join(mountPoint, 'data');
const filler = join(mountPoint, 'filler');
let serve: ServeRun;
let token = '';

afterAll(async () => {
  await killAllServes();
  if (mounted) execFileSync('umount', ['-l', mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

/** Fills the tmpfs to the last byte (cat stops at ENOSPC): the server's next write cannot fit. */
function fillDisk(): void {
  execFileSync('sh', ['-c', 'cat /dev/zero > "$1" 2>/dev/null; true', 'fill', filler]);
}

function freeDisk(): void {
  rmSync(filler, { force: true });
}

interface RpcReply {
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string };
}

async function rpc(method: string, body: unknown): Promise<{ status: number; json: RpcReply }> {
  const res = await fetch(`http://127.0.0.1:${serve.ready.http}/rpc/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as RpcReply };
}

/** What the disk holds: keyport.json with the journal replayed (store/journal-format.ts). */
const stored = async () => (await readStoreDir(dataDir)) as unknown as StoredFile;
const onDiskBytes = () =>
  Buffer.concat([readFileSync(join(dataDir, 'keyport.json')), readFileSync(join(dataDir, 'keyport.journal'))]);

describe.runIf(mounted)('a full or read-only disk under keyport serve (tmpfs)', () => {
  beforeAll(async () => {
    execFileSync('mkdir', ['-m', '0700', dataDir]);
    await seedDataDir(dataDir, 200); // a store of some size, so a write needs real space
    serve = await startServeProcess(dataDir);
    token = readFileSync(serve.ready.adminTokenFile, 'utf8').trim();
    // 45 s: seeding 200 keys, then a serve start that startServeProcess itself bounds at 30 s (the
    // suite's 20 s hook timeout would cut that bound short on a busy machine; seen at load 20).
  }, 45_000);

  it.sequential('disk full: 7 refused creates answer 507 and none of them is ever stored', async () => {
    fillDisk();
    onTestFinished(freeDisk); // whatever happens below, the next test gets its disk back
    const file = join(dataDir, 'keyport.journal');
    // A journal line that still fits in the journal's last allocated page is written and stored
    // (acknowledged, so it must be there later). Small devices fill that slack until one is
    // refused; every change below needs a line at least that long.
    const fitted: string[] = [];
    for (let i = 0; i < 80; i++) {
      const r = await rpc('devices.create', { name: `f${i}` });
      if (r.status !== 200) break;
      fitted.push((r.json.result as { id: string }).id);
    }
    const before = onDiskBytes();
    for (let i = 0; i < 7; i++) {
      const r = await rpc('keys.create', { name: `refused ${i}` });
      expect(r.status).toBe(507);
      expect(r.json.error).toEqual({
        code: 'storage',
        message: `disk full writing ${file} (ENOSPC); the change was not saved`,
      });
    }
    const api = await fetch(`http://127.0.0.1:${serve.ready.http}/applications/${serve.ready.applicationId}/devices`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ name: 'refused device' }),
    });
    expect(api.status).toBe(507);
    expect(await api.json()).toEqual({
      type: 'InsufficientStorage',
      message: `disk full writing ${file} (ENOSPC); the change was not saved`,
    });
    const cli = await keyport(dataDir, ['keys', 'create', '--name', 'refused by the cli', '--all-devices']);
    expect(cli.stderr).toBe(`keyport: disk full writing ${file} (ENOSPC); the change was not saved\n`);
    expect(cli.code).toBe(1);
    expect(onDiskBytes().equals(before)).toBe(true);
    expect((await rpc('keys.list', {})).json.result as unknown[]).toHaveLength(200); // memory agrees with the disk
    console.log(
      `fault full-disk: ${fitted.length} create(s) fitted in the journal's last page; the next 9 refused changes answered 507 and left keyport.json and keyport.journal byte-identical`,
    );

    freeDisk();
    const ok = await rpc('keys.create', { name: 'after the disk came back' });
    expect(ok.status).toBe(200);
    const names = (await stored()).keys.map((k) => k.name).filter((n) => n !== undefined);
    expect(names).toEqual(['after the disk came back']);
    const devices = new Set((await stored()).devices.map((d) => d.id));
    expect(fitted.filter((id) => !devices.has(id))).toEqual([]);
    expect(readdirSync(dataDir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it.sequential('read-only: a refused update answers 507 naming EROFS, the server stays up and recovers', async () => {
    const device = (await stored()).devices[0]!;
    execFileSync('mount', ['-o', 'remount,ro', mountPoint]);
    try {
      const r = await rpc('devices.update', { id: device.id, patch: { name: 'refused rename' } });
      expect(r.status).toBe(507);
      expect(r.json.error?.message).toBe(
        `read-only file system writing ${join(dataDir, 'keyport.journal')} (EROFS); the change was not saved`,
      );
      expect(((await rpc('devices.get', { id: device.id })).json.result as { name: string }).name).toBe(device.name);
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', mountPoint]);
    }
    const ok = await rpc('devices.update', { id: device.id, patch: { name: 'renamed later' } });
    expect(ok.status).toBe(200);
    expect((await stored()).devices.find((d) => d.id === device.id)?.name).toBe('renamed later');
    const exit = await serve.stop('SIGTERM');
    expect(exit.code, exit.stderr).toBe(0);
  });
});

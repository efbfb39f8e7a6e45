// The README's five-minute tour, as a new user pastes it (issue 15): the commands between the
// `<!-- tour:start -->` and `<!-- tour:end -->` markers run in bash, unchanged, against a server on
// free ports (the tour's own first terminal, `npm run serve`, is this test's runtime on the same
// data directory). `npx keyport` runs bin/keyport.mjs through a shim on PATH (npx itself would look
// the package up first); HOME is a temporary directory, so `~/.keyport-secrets` lands there.
// Also: `keyport ui-url`, `devices create --id-only` and the --save warning inside a git tree.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRuntime, type Runtime } from '../../src-main/server/runtime.ts';
import { BIN, keyport, REPO } from '../helpers/cli.ts';

let tmp: string;
let dataDir: string;
let home: string;
let shims: string;
let rt: Runtime | undefined;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'keyport-tour-'));
  dataDir = join(tmp, 'data');
  home = join(tmp, 'home');
  shims = join(tmp, 'bin');
  for (const d of [dataDir, home, shims]) mkdirSync(d, { recursive: true });
  const npx = join(shims, 'npx');
  writeFileSync(
    npx,
    `#!/bin/sh\n[ "$1" = keyport ] || { echo "the tour runs only npx keyport" >&2; exit 64; }\nshift\nexec node ${JSON.stringify(BIN)} "$@"\n`,
  );
  chmodSync(npx, 0o755);
});
afterAll(async () => {
  await rt?.close();
  await rm(tmp, { recursive: true, force: true });
});

function tourScript(): string {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const m = /<!-- tour:start -->\n```sh\n([\s\S]*?)```\n<!-- tour:end -->/.exec(readme);
  if (!m?.[1]) throw new Error('README.md has no ```sh block between <!-- tour:start --> and <!-- tour:end -->');
  return m[1];
}

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    KEYPORT_DATA: dataDir,
    PATH: `${shims}:${process.env.PATH ?? ''}`,
  };
  delete env.NODE_OPTIONS; // vitest's loader hooks must not leak into the child
  return env;
}

function bash(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { cwd: REPO, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the README tour, pasted line by line', () => {
  it('ui-url says no server is running before one is', async () => {
    const r = await keyport(dataDir, ['ui-url']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no Keyport server is running on the data directory .*npm run serve/);
  });

  // 60 s: the tour's last command simulates for 10 s; the rest are a dozen CLI start-ups (each a
  // fresh node process) on a shared 2-core machine.
  it(
    'creates the device and key, is refused then accepted, and the decisions say so',
    { timeout: 60_000 },
    async () => {
      rt = await startRuntime({
        dataDir,
        mqttPort: 0,
        wsPort: 0,
        tlsPort: 0,
        httpPort: 0,
        log: () => {},
        limits: 'off',
      });
      const r = await bash(tourScript());
      const out = `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
      expect(r.code, out).toBe(0);
      expect(r.stdout.split('\n')[0], out).toBe(rt.uiUrl);
      expect(r.stderr, out).toContain('Connection Refused: bad user name or password.');
      expect(r.stdout, out).toMatch(/received CONNACK \(0\)/);
      expect(r.stdout, out).toMatch(/summary after .*\n(.*\n)*\s+publish\.allowed\s+\d/);
      expect(r.stderr, out).not.toContain('git working tree');

      const [device] = rt.service.devices.list();
      expect(device, out).toMatchObject({ name: 'Thermostat 1', tags: [{ key: 'type', value: 'thermostat' }] });
      expect(device?.lastState?.data).toMatchObject({ temp: expect.any(Number) });
      const feed = rt.service.feed.list().filter((e) => e.deviceId === device?.id);
      const firstConnects = feed.filter((e) => e.action === 'connect').slice(0, 2);
      expect(firstConnects.map((e) => [e.result, e.reason])).toEqual([
        ['denied', 'secret.mismatch'],
        ['allowed', 'connect.accepted'],
      ]);
      expect(feed.some((e) => e.action === 'publish' && e.reason === 'publish.allowed')).toBe(true);

      const secrets = join(home, '.keyport-secrets', 't1.env');
      expect(statSync(secrets).mode & 0o777).toBe(0o600);
      expect(readFileSync(secrets, 'utf8')).toContain(`LOSANT_DEVICE_ID=${device?.id}`);
      expect(existsSync(join(REPO, 't1.env'))).toBe(false);
    },
  );

  it("ui-url prints the running server's link again; --json gives it as a document", async () => {
    expect(rt, 'the tour test started the server').toBeDefined();
    const r = await keyport(dataDir, ['ui-url']);
    expect(r).toMatchObject({ code: 0, stdout: `${rt!.uiUrl}\n` });
    const j = await keyport(dataDir, ['ui-url', '--json']);
    expect(JSON.parse(j.stdout)).toEqual({ url: rt!.uiUrl, pid: process.pid });
  });
});

describe('keys create --save inside a git working tree', () => {
  it('warns when the file is not ignored, and not when .gitignore covers it or it is outside', async () => {
    const repo = join(tmp, 'repo');
    mkdirSync(repo);
    expect(spawnSync('git', ['init', '-q'], { cwd: repo }).status).toBe(0);
    const d = await keyport(dataDir, ['devices', 'create', '--name', 'git check', '--id-only']);
    expect(d.stdout).toMatch(/^[0-9a-f]{24}\n$/);
    const id = d.stdout.trim();
    const create = (file: string) => keyport(dataDir, ['keys', 'create', '--device', id, '--save', file]);
    const exposed = await create(join(repo, 'a.env'));
    expect(exposed.code).toBe(0);
    expect(exposed.stderr).toMatch(/warning: .*a\.env is inside the git working tree .* not covered by \.gitignore/);
    writeFileSync(join(repo, '.gitignore'), '*.env\n');
    expect((await create(join(repo, 'b.env'))).stderr).not.toContain('git working tree');
    expect((await create(join(tmp, 'outside.env'))).stderr).not.toContain('git working tree');
    const idOnly = await keyport(dataDir, [
      'keys',
      'create',
      '--device',
      id,
      '--save',
      join(tmp, 'c.env'),
      '--id-only',
    ]);
    expect(idOnly.stdout).toMatch(/^[0-9a-f]{24}\n$/);
    expect(readFileSync(join(tmp, 'c.env'), 'utf8')).toContain('LOSANT_ACCESS_SECRET=');
    const noSave = await keyport(dataDir, ['keys', 'create', '--device', id, '--id-only']);
    expect(noSave.code).toBe(2);
    expect(noSave.stderr).toContain('--id-only needs --save FILE');
  });
});

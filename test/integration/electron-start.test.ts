// `npm start` from a fresh clone, for real: scripts/start.mjs downloads a (stand-in) Electron
// release from a loopback mirror through @electron/get, checks it against SHASUMS256.txt, unpacks
// it and runs the real `electron-vite dev`, which builds the main process and launches the
// stand-in with it. The failure paths print one message and leave nothing half-installed.
// Everything installs into a scratch copy of the electron package with a scratch cache
// (KEYPORT_ELECTRON_DIR, electron_config_cache): the real node_modules/electron is never written.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  closedPort,
  ELECTRON_VERSION,
  REAL_ELECTRON_DIR,
  ROOT,
  scratchElectron,
  sha256,
  standInZip,
  startFakeMirror,
  ZIP_NAME,
  type FakeMirror,
} from '../helpers/fake-electron-mirror.ts';

const ZIP = standInZip();
const REL = `v${ELECTRON_VERSION}`;
const goodRelease = (prefix = REL): Record<string, Buffer | string> => ({
  [`${prefix}/${ZIP_NAME}`]: ZIP,
  [`${prefix}/SHASUMS256.txt`]: `${sha256('other')} *electron-v${ELECTRON_VERSION}-win32-x64.zip\n${sha256(ZIP)} *${ZIP_NAME}\n`,
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const children = new Set<number>();
const scratch: string[] = [];
const mirrors: FakeMirror[] = [];

/**
 * A checkout of the project as a fresh clone has it (sources, configs, scripts; node_modules linked
 * to the real one), so `electron-vite dev` builds into ITS out/ and never rewrites this checkout's
 * out/main while `npm test` runs Playwright against the built app at the same time.
 */
function projectCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'keyport-start-'));
  scratch.push(dir);
  const needed = ['package.json', 'electron.vite.config.ts', 'svelte.config.js', 'tsconfig.json', 'tsconfig.node.json'];
  for (const entry of [...needed, 'tsconfig.web.json', 'scripts', 'src-main', 'src-renderer', 'resources']) {
    cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

/** Runs a script with only the Electron settings a test gives it (none inherited from the shell). */
async function run(script: string, env: Record<string, string>, cwd = ROOT): Promise<Run> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(electron_|npm_config_electron|npm_package_config_electron|force_no_cache)/i.test(k),
    ),
  );
  const child = spawn(process.execPath, [join(cwd, 'scripts', script)], {
    cwd,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so cleanup can reach electron-vite and the stand-in
  });
  children.add(child.pid!);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  children.delete(child.pid!);
  return { code, stdout, stderr };
}

function setup(): { dir: string; cache: string; record: string } {
  const s = scratchElectron();
  scratch.push(s.base);
  return { dir: s.dir, cache: s.cache, record: join(s.base, 'record.json') };
}

async function mirror(files: Record<string, Buffer | string>): Promise<FakeMirror> {
  const m = await startFakeMirror(files);
  mirrors.push(m);
  return m;
}

function envFor(
  s: { dir: string; cache: string; record: string },
  mirrorUrl: string,
  extra: Record<string, string> = {},
) {
  return {
    KEYPORT_ELECTRON_DIR: s.dir,
    electron_config_cache: s.cache,
    ELECTRON_MIRROR: mirrorUrl,
    electron_use_remote_checksums: '1',
    KEYPORT_STANDIN_RECORD: s.record,
    ...extra,
  };
}

/** Nothing half-installed: no staging dir, no dist/, no path.txt (which electron-vite would trust). */
function expectNothingInstalled(dir: string): void {
  expect(existsSync(join(dir, 'path.txt'))).toBe(false);
  expect(existsSync(join(dir, 'dist'))).toBe(false);
  expect(readdirSync(dir).filter((n) => n.startsWith('dist.partial-'))).toEqual([]);
}

/** The one message: what failed, how to retry, the browser alternative; no stack, no dev URL. */
function expectOneMessage(r: Run, what: RegExp): void {
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(
    /^keyport: cannot start the desktop app: the Electron \S+ binary could not be downloaded\.\n/,
  );
  expect(r.stderr).toMatch(what);
  expect(r.stderr).toContain('Retry: npm start');
  expect(r.stderr).toContain('ELECTRON_MIRROR');
  expect(r.stderr).toContain('npm run serve');
  expect(r.stderr.match(/keyport: /g)).toHaveLength(1);
  expect(r.stderr + r.stdout).not.toMatch(/^\s+at /m);
  expect(r.stderr + r.stdout).not.toMatch(/Error:/);
  expect(r.stderr + r.stdout).not.toMatch(/localhost|dev server/i);
}

const realState = () => ({
  pathTxt: existsSync(join(REAL_ELECTRON_DIR, 'path.txt')),
  dist: existsSync(join(REAL_ELECTRON_DIR, 'dist')),
});
let realBefore: ReturnType<typeof realState>;

beforeAll(() => {
  realBefore = realState();
});

afterEach(() => {
  // A failed assertion can leave electron-vite (and its dev server) running: end the whole group.
  for (const pid of children) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
});

afterAll(async () => {
  await Promise.all(mirrors.map((m) => m.close()));
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  // The real package is exactly as it was: a stand-in left there would pass for Electron forever.
  expect(realState()).toEqual(realBefore);
});

// Each case spawns Node once or twice (start-up, @electron/get import, a loopback download):
// about 0.5 s idle, several seconds on a loaded 2-core machine; 60 s is room for that.
describe('npm start (scripts/start.mjs) with a fake Electron mirror', { timeout: 60_000 }, () => {
  // Downloads and unpacks a tiny zip, then electron-vite builds main + preload and starts Vite:
  // about 5 s here when idle; 120 s leaves room for a 2-core machine shared with other suites.
  it('downloads, verifies, unpacks and launches Electron through electron-vite dev', { timeout: 120_000 }, async () => {
    const s = setup();
    const m = await mirror(goodRelease());
    const project = projectCopy();
    const t0 = Date.now();
    const r = await run('start.mjs', envFor(s, m.url), project);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.code).toBe(0);

    expect(m.requests).toEqual([`${REL}/${ZIP_NAME}`, `${REL}/SHASUMS256.txt`]);
    expect(r.stdout).toContain(`downloading it once from ${m.url}${REL}/${ZIP_NAME}`);
    expect(r.stdout).toMatch(new RegExp(`Downloading ${ZIP_NAME.replaceAll('.', '\\.')}: 100% \\(`));

    // Installed the way install.js leaves it: dist/ with the executable, path.txt naming it.
    expect(readFileSync(join(s.dir, 'path.txt'), 'utf8')).toBe('electron');
    expect(statSync(join(s.dir, 'dist', 'electron')).mode & 0o111).not.toBe(0);
    expect(readdirSync(s.dir).filter((n) => n.startsWith('dist.partial-'))).toEqual([]);

    // What electron-vite dev launched: the project root ('.', so Electron reads package.json's
    // main), after building that entry in this run, with the renderer dev server up.
    const rec = JSON.parse(readFileSync(s.record, 'utf8'));
    expect(rec.error).toBeUndefined();
    expect(rec.argv).toEqual(['.']);
    expect(rec.cwd).toBe(project);
    expect(rec.main).toBe('out/main/index.js');
    expect(rec.mainExists).toBe(true);
    expect(rec.mainMtimeMs).toBeGreaterThanOrEqual(t0);
    expect(rec.nodeEnvElectronVite).toBe('development');
    expect(rec.rendererUrl).toMatch(/^http:\/\/localhost:\d+$/);
    expect(rec.renderer).toEqual({ status: 200, hasAppRoot: true });

    // Installed once: the next start downloads nothing at all.
    const again = await run('ensure-electron.mjs', envFor(s, m.url));
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toBe(join(s.dir, 'dist', 'electron'));
    expect(m.requests).toHaveLength(2);
  });

  it('honours the download cache: a fresh package dir re-checks the checksum but does not re-download', async () => {
    const first = setup();
    const m = await mirror(goodRelease());
    expect((await run('ensure-electron.mjs', envFor(first, m.url))).code).toBe(0);
    const second = { ...setup(), cache: first.cache };
    const r = await run('ensure-electron.mjs', envFor(second, m.url));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('using the copy in the download cache');
    expect(m.requests).toEqual([`${REL}/${ZIP_NAME}`, `${REL}/SHASUMS256.txt`, `${REL}/SHASUMS256.txt`]);
    expect(readFileSync(join(second.dir, 'path.txt'), 'utf8')).toBe('electron');
  });

  it('honours ELECTRON_CUSTOM_DIR with its {{ version }} placeholder', async () => {
    const s = setup();
    const m = await mirror(goodRelease(`builds/${ELECTRON_VERSION}`));
    const r = await run('ensure-electron.mjs', envFor(s, m.url, { ELECTRON_CUSTOM_DIR: 'builds/{{ version }}' }));
    expect(r.code).toBe(0);
    expect(m.requests[0]).toBe(`builds/${ELECTRON_VERSION}/${ZIP_NAME}`);
  });

  it('ELECTRON_OVERRIDE_DIST_PATH: an Electron already on disk is used as is; a wrong one is the one message', async () => {
    const s = setup();
    const m = await mirror(goodRelease());
    const own = join(s.dir, '..', 'own-build');
    mkdirSync(own);
    writeFileSync(join(own, 'electron'), '#!/bin/sh\n', { mode: 0o755 });
    const ok = await run('ensure-electron.mjs', envFor(s, m.url, { ELECTRON_OVERRIDE_DIST_PATH: own }));
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim()).toBe(join(own, 'electron'));
    const bad = await run('start.mjs', envFor(s, m.url, { ELECTRON_OVERRIDE_DIST_PATH: join(own, 'nope') }));
    expectOneMessage(bad, /What failed: ELECTRON_OVERRIDE_DIST_PATH is set but \S+nope\/electron does not exist/);
    expect(m.requests).toEqual([]);
    expectNothingInstalled(s.dir);
  });

  it('mirror unreachable: one message, exit 1, and a stale path.txt and staging dir are cleared', async () => {
    const s = setup();
    // What an interrupted earlier attempt can leave: path.txt pointing at nothing, half an unzip.
    writeFileSync(join(s.dir, 'path.txt'), 'electron');
    mkdirSync(join(s.dir, 'dist.partial-99999'));
    const port = await closedPort();
    const r = await run('start.mjs', envFor(s, `http://127.0.0.1:${port}/`));
    expectOneMessage(
      r,
      new RegExp(`What failed: cannot reach 127\\.0\\.0\\.1:${port}: connection refused \\(ECONNREFUSED\\)`),
    );
    expect(r.stderr).toContain(`http://127.0.0.1:${port}/${REL}/${ZIP_NAME}`);
    expectNothingInstalled(s.dir);
  });

  it('a mirror on a port fetch refuses to use (9, "discard"): one message naming why', async () => {
    const s = setup();
    const r = await run('start.mjs', envFor(s, 'http://127.0.0.1:9/'));
    expectOneMessage(r, /What failed: the download request failed: bad port \(http:\/\/127\.0\.0\.1:9\/v/);
    expectNothingInstalled(s.dir);
  });

  it('checksum mismatch against the mirror’s SHASUMS256.txt: one message, nothing installed or cached', async () => {
    const s = setup();
    const m = await mirror({
      [`${REL}/${ZIP_NAME}`]: ZIP,
      [`${REL}/SHASUMS256.txt`]: `${sha256('not the zip')} *${ZIP_NAME}\n`,
    });
    const r = await run('start.mjs', envFor(s, m.url));
    expectOneMessage(
      r,
      new RegExp(
        `the download failed verification: ${ZIP_NAME.replaceAll('.', '\\.')} does not match its SHA-256 checksum in ${m.url}${REL}/SHASUMS256\\.txt`,
      ),
    );
    expectNothingInstalled(s.dir);
    expect(
      existsSync(s.cache) ? readdirSync(s.cache, { recursive: true }).filter((f) => String(f).endsWith('.zip')) : [],
    ).toEqual([]);
  });

  it('by default checks against electron’s bundled checksums.json, which a substituted zip fails', async () => {
    const s = setup();
    const m = await mirror(goodRelease());
    const env: Record<string, string> = envFor(s, m.url);
    delete env.electron_use_remote_checksums;
    const r = await run('start.mjs', env);
    expectOneMessage(r, /does not match its SHA-256 checksum in \S+checksums\.json/);
    expect(r.stderr).toContain('electron_use_remote_checksums=1');
    expect(m.requests).toEqual([`${REL}/${ZIP_NAME}`]); // no SHASUMS256.txt: the bundled list decides
    expectNothingInstalled(s.dir);
  });

  it('HTTP 404 (wrong ELECTRON_CUSTOM_DIR): one message naming the status and the URL', async () => {
    const s = setup();
    const m = await mirror(goodRelease());
    const r = await run('start.mjs', envFor(s, m.url, { ELECTRON_CUSTOM_DIR: 'nope' }));
    expectOneMessage(
      r,
      new RegExp(`What failed: HTTP 404 Not Found for ${m.url}nope/${ZIP_NAME.replaceAll('.', '\\.')}`),
    );
    expect(r.stderr).toContain('the mirror has no such file');
    expectNothingInstalled(s.dir);
  });

  it('a zip that is not a zip (checksum matches): one message, no half-unpacked dist', async () => {
    const s = setup();
    const junk = Buffer.from('this is not a zip archive');
    const m = await mirror({
      [`${REL}/${ZIP_NAME}`]: junk,
      [`${REL}/SHASUMS256.txt`]: `${sha256(junk)} *${ZIP_NAME}\n`,
    });
    const r = await run('start.mjs', envFor(s, m.url));
    expectOneMessage(r, /What failed: cannot unpack \S+/);
    expectNothingInstalled(s.dir);
  });
});

#!/usr/bin/env node
// Makes sure the Electron binary is installed before electron-vite starts. electron 45 has no
// postinstall: node_modules/electron/install.js runs the first time `require('electron')` does,
// but electron-vite 6 reads node_modules/electron/path.txt itself and throws "Electron uninstall"
// without triggering it. This module does what install.js does, with the same @electron/get call
// and options — so ELECTRON_MIRROR, ELECTRON_CUSTOM_DIR, electron_config_cache, force_no_cache,
// electron_use_remote_checksums, ELECTRON_INSTALL_PLATFORM/ARCH and proxies behave exactly as
// in Electron — plus progress, one clear error, and no half-installed state: the zip is unpacked
// beside dist/, moved into place, and path.txt (what electron-vite reads) is written last.
//
// Run directly (`node scripts/ensure-electron.mjs`) it installs and prints the executable's path.
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { platform as osPlatform } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createProgressReporter } from './download-progress.mjs';
import { describeFailure, ElectronUnavailableError, failureMessage } from './electron-failure.mjs';

const STAGING_PREFIX = 'dist.partial-';

/** @typedef {import('./download-progress.d.mts').ProgressReporter} ProgressReporter */

/**
 * The electron package this project depends on (KEYPORT_ELECTRON_DIR overrides it, for tests).
 * @param {NodeJS.ProcessEnv} [env]
 * @param {string} [projectRoot]
 * @returns {string}
 */
export function electronPackageDir(env = process.env, projectRoot = process.cwd()) {
  if (env.KEYPORT_ELECTRON_DIR) return resolve(env.KEYPORT_ELECTRON_DIR);
  const req = createRequire(join(projectRoot, 'package.json'));
  return dirname(req.resolve('electron/package.json'));
}

/**
 * Same switch as install.js's getPlatformPath.
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {string}
 */
export function platformPath(env = process.env) {
  const platform = env.ELECTRON_INSTALL_PLATFORM || env.npm_config_platform || osPlatform();
  switch (platform) {
    case 'mas':
    case 'darwin':
      return 'Electron.app/Contents/MacOS/Electron';
    case 'freebsd':
    case 'openbsd':
    case 'linux':
      return 'electron';
    case 'win32':
      return 'electron.exe';
    default:
      throw new ElectronUnavailableError(`Electron builds are not available on platform: ${platform}`);
  }
}

/**
 * The installed executable, or null. Same test as install.js's isInstalled(): dist/version is
 * this package's version, path.txt names this platform's executable, and the executable exists.
 * @param {string} dir the electron package
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {string | null}
 */
export function installedElectron(dir, env = process.env) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  let rel;
  try {
    rel = platformPath(env);
    const version = readFileSync(join(dir, 'dist', 'version'), 'utf8')
      .trim()
      .replace(/^v/, '');
    if (version !== pkg.version) return null;
    if (readFileSync(join(dir, 'path.txt'), 'utf8') !== rel) return null;
  } catch {
    return null;
  }
  const exe = join(env.ELECTRON_OVERRIDE_DIST_PATH || join(dir, 'dist'), rel);
  return existsSync(exe) ? exe : null;
}

/**
 * Resolves @electron/get and the unzipper the way install.js does: from the electron package.
 * They are loaded by path at run time, so they are typed here only as far as this file uses them.
 * @param {string} dir the electron package
 * @returns {Promise<{
 *   downloadArtifact: (opts: object) => Promise<string>,
 *   FetchDownloader: new () => { download(url: string, target: string, options?: object): Promise<void> },
 *   extract: (zip: string, opts: { dir: string }) => Promise<void>,
 * }>}
 */
async function electronDeps(dir) {
  const here = createRequire(join(dir, 'package.json'));
  const fallback = createRequire(import.meta.url);
  const load = (/** @type {string} */ name) => {
    let path;
    try {
      path = here.resolve(name);
    } catch {
      path = fallback.resolve(name);
    }
    return import(pathToFileURL(path).href);
  };
  const [get, zip] = await Promise.all([load('@electron/get'), load('@electron-internal/extract-zip')]);
  return { downloadArtifact: get.downloadArtifact, FetchDownloader: get.FetchDownloader, extract: zip.extract };
}

/**
 * Removes what an interrupted install can leave behind: staging dirs, a path.txt pointing at nothing.
 * @param {string} dir the electron package
 */
function clearPartialInstall(dir) {
  for (const name of readdirSync(dir)) {
    if (name.startsWith(STAGING_PREFIX)) rmSync(join(dir, name), { recursive: true, force: true });
  }
  rmSync(join(dir, 'path.txt'), { force: true });
}

/**
 * Installs Electron into `dir` unless it already is. Progress goes to `out`.
 * @param {{ dir?: string, env?: NodeJS.ProcessEnv, out?: { write(s: string): unknown, isTTY?: boolean } }} [opts]
 * @returns {Promise<{ executable: string, downloaded: boolean }>}
 * @throws {ElectronUnavailableError} with a message ready to print
 */
export async function ensureElectron({ dir = electronPackageDir(), env = process.env, out = process.stdout } = {}) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const version = pkg.version;
  if (env.ELECTRON_OVERRIDE_DIST_PATH) {
    const exe = join(env.ELECTRON_OVERRIDE_DIST_PATH, platformPath(env));
    if (existsSync(exe)) return { executable: exe, downloaded: false };
    throw new ElectronUnavailableError(`ELECTRON_OVERRIDE_DIST_PATH is set but ${exe} does not exist`);
  }
  const existing = installedElectron(dir, env);
  if (existing) return { executable: existing, downloaded: false };

  const rel = platformPath(env);
  const platform = env.ELECTRON_INSTALL_PLATFORM || env.npm_config_platform || process.platform;
  const arch = env.ELECTRON_INSTALL_ARCH || env.npm_config_arch || process.arch;
  const remoteChecksums = Boolean(env.electron_use_remote_checksums || env.npm_config_electron_use_remote_checksums);
  const ctx = {
    version,
    url: /** @type {string | null} */ (null),
    checksumSource: remoteChecksums ? 'the mirror’s SHASUMS256.txt' : `${join(dir, 'checksums.json')}`,
    dir,
  };
  /** @type {ProgressReporter | null} */
  let progress = null;
  /** @type {string | null} */
  let staging = null;
  try {
    clearPartialInstall(dir);
    const { downloadArtifact, FetchDownloader, extract } = await electronDeps(dir);
    const fetcher = new FetchDownloader();
    // Wraps Electron's own downloader only to learn the URL (for messages) and to draw progress.
    const downloader = {
      /**
       * @param {string} url
       * @param {string} target
       * @param {{ getProgressCallback?: unknown } & Record<string, unknown>} [options]
       */
      async download(url, target, options) {
        const isZip = url.endsWith('.zip');
        if (isZip) {
          ctx.url = url;
          out.write(`Electron ${version} is not installed yet; downloading it once from ${url}\n`);
          progress = createProgressReporter(out, `Downloading ${basename(new URL(url).pathname)}`);
        } else if (remoteChecksums) {
          ctx.checksumSource = url;
        }
        const { getProgressCallback: _ignored, ...rest } = options ?? {};
        await fetcher.download(url, target, {
          ...rest,
          quiet: true, // @electron/get's own bar appears only after 30 s and only on a TTY
          // The casts: `progress` is set above whenever isZip is, which tsc cannot follow.
          ...(isZip
            ? {
                getProgressCallback: (/** @type {{ transferred: number, total: number | null }} */ p) =>
                  /** @type {ProgressReporter} */ (progress).update(p),
              }
            : {}),
        });
        if (isZip) /** @type {ProgressReporter} */ (progress).done();
      },
    };
    const zipPath = await downloadArtifact({
      version,
      artifactName: 'electron',
      force: env.force_no_cache === 'true',
      cacheRoot: env.electron_config_cache,
      checksums: remoteChecksums ? undefined : JSON.parse(readFileSync(join(dir, 'checksums.json'), 'utf8')),
      platform,
      arch,
      downloader,
    });
    if (!ctx.url) out.write(`Electron ${version}: using the copy in the download cache (${zipPath})\n`);

    staging = join(dir, `${STAGING_PREFIX}${process.pid}`);
    out.write(`Unpacking Electron into ${join(dir, 'dist')}\n`);
    try {
      await extract(zipPath, { dir: staging });
    } catch (err) {
      const why = /** @type {any} */ (err)?.message ?? err;
      throw new ElectronUnavailableError(`cannot unpack ${zipPath}: ${why}`, [
        'the file in the download cache may be damaged: retry with force_no_cache=true',
      ]);
    }
    if (!existsSync(join(staging, rel))) {
      throw new ElectronUnavailableError(`the downloaded archive has no ${rel} (${ctx.url ?? zipPath})`);
    }
    const dist = join(dir, 'dist');
    rmSync(dist, { recursive: true, force: true });
    renameSync(staging, dist);
    staging = null;
    // install.js moves the bundled typings up next to package.json; do the same.
    const typings = join(dist, 'electron.d.ts');
    if (existsSync(typings)) renameSync(typings, join(dir, 'electron.d.ts'));
    const tmp = join(dir, `path.txt.${process.pid}`);
    writeFileSync(tmp, rel);
    renameSync(tmp, join(dir, 'path.txt'));
    const exe = installedElectron(dir, env);
    if (!exe) {
      clearPartialInstall(dir);
      throw new ElectronUnavailableError(`the archive unpacked, but ${join(dist, 'version')} is not ${version}`);
    }
    return { executable: exe, downloaded: Boolean(ctx.url) };
  } catch (err) {
    // A cast: tsc does not see the assignment inside downloader.download and takes `progress` as null.
    /** @type {ProgressReporter | null} */ (progress)?.abort();
    if (staging) rmSync(staging, { recursive: true, force: true });
    throw describeFailure(err, ctx);
  }
}

async function main() {
  try {
    const { executable } = await ensureElectron();
    process.stdout.write(`${executable}\n`);
  } catch (err) {
    const failure = describeFailure(err, { version: '?', url: null, checksumSource: '', dir: '' });
    process.stderr.write(failureMessage(failure, versionOf()));
    process.exitCode = 1;
  }
}

function versionOf() {
  try {
    return JSON.parse(readFileSync(join(electronPackageDir(), 'package.json'), 'utf8')).version;
  } catch {
    return '(unknown version)';
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();

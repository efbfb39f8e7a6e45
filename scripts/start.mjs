#!/usr/bin/env node
// `npm start`: make sure the Electron binary is installed (downloading it once, with progress),
// then run `electron-vite dev` with it. When Electron cannot be had, print one message saying
// what failed and how to retry, and exit 1 — before any dev server starts, so no URL is printed
// that would suggest something is running. Extra arguments go to electron-vite
// (`npm start -- --inspect`).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { electronPackageDir, ensureElectron } from './ensure-electron.mjs';
import { describeFailure, failureMessage } from './electron-failure.mjs';

/**
 * A port the renderer dev server can have. electron-vite tells Electron the *configured* port
 * (ELECTRON_RENDERER_URL), not the one Vite fell back to when it was busy, so the config uses
 * this port with strictPort: a busy port is an error, never a window showing another app.
 * @returns {Promise<number>}
 */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, 'localhost', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (srv.address());
      srv.close(() => resolve(port));
    });
  });
}

/** @returns {Promise<number>} the exit code */
async function main() {
  const root = process.cwd();
  let dir;
  /** @type {string} */
  let version;
  try {
    dir = electronPackageDir(process.env, root);
    version = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
  } catch {
    process.stderr.write(
      'keyport: cannot start the desktop app: the electron package is not installed.\n' +
        '  Retry: npm install, then npm start\n' +
        '  Or use the same UI in a browser, no Electron needed: npm run serve\n',
    );
    return 1;
  }

  let executable;
  try {
    ({ executable } = await ensureElectron({ dir }));
  } catch (err) {
    const failure = describeFailure(err, { version, url: null, checksumSource: '', dir });
    process.stderr.write(failureMessage(failure, version));
    return 1;
  }

  const evPkg = createRequire(join(root, 'package.json')).resolve('electron-vite/package.json');
  const electronVite = join(dirname(evPkg), JSON.parse(readFileSync(evPkg, 'utf8')).bin['electron-vite']);
  const port = process.env.KEYPORT_RENDERER_PORT || String(await freePort());
  const child = spawn(process.execPath, [electronVite, 'dev', ...process.argv.slice(2)], {
    stdio: 'inherit',
    // ELECTRON_EXEC_PATH is electron-vite's own override of the binary it launches.
    env: { ...process.env, ELECTRON_EXEC_PATH: executable, KEYPORT_RENDERER_PORT: port },
  });
  // Ctrl-C reaches electron-vite through the terminal's process group; a signal sent to this
  // process alone (kill PID) is passed on so electron-vite can stop Electron and its dev server.
  for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
    process.on(sig, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    });
  }
  return new Promise((resolve) => {
    child.on('error', (err) => {
      process.stderr.write(`keyport: cannot run electron-vite: ${err.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

process.exitCode = await main();

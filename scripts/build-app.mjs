#!/usr/bin/env node
// `npm run build` (and `prepare`): the CLI bundle (scripts/build-cli.mjs), then the app
// (`electron-vite build`: out/main, out/preload, out/renderer), then out/build-manifest.json, a
// digest of every input (scripts/build-state.mjs). `npm test` reads that manifest to skip a build
// that `npm install` has just made from the same sources; any edit makes it build again.
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCli } from './build-cli.mjs';
import { inputsDigest, writeBuildManifest } from './build-state.mjs';

const root = resolve(fileURLToPath(import.meta.url), '../..');
// Taken BEFORE building: a file saved during the build changes the digest, so the next check
// finds the build stale rather than trusting output made from the older text.
const digest = inputsDigest(root);
const cli = await buildCli(root);
console.log(`built the keyport CLI into ${cli.outdir} (${cli.inputs} sources)`);
const bin = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'electron-vite.cmd' : 'electron-vite');
const r = spawnSync(bin, ['build'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  process.stderr.write(
    `build: electron-vite build ${r.error ? `failed to start (${r.error.message})` : `exited ${r.status ?? r.signal}`}\n`,
  );
  process.exit(r.status || 1);
}
writeBuildManifest(root, digest);

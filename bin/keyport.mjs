#!/usr/bin/env node
// The `keyport` command. It runs the built CLI (out/cli, made by `npm run build:cli`, which
// `npm install` runs through `prepare`). When that bundle is missing or older than the sources
// (a checkout edited since the last build) it says so in one line on stderr and runs the
// TypeScript sources through tsx instead: slower to start, never stale.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleState } from './cli-bundle.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = bundleState(root);
let main;
if (bundle.state === 'fresh' || bundle.state === 'no-sources') {
  ({ main } = await import(pathToFileURL(bundle.entry).href));
} else {
  process.stderr.write(
    `keyport: note: ${bundle.why}; running the sources through tsx (npm run build:cli to rebuild)\n`,
  );
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src-main/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));

#!/usr/bin/env node
// Builds the `keyport` command into out/cli/ with esbuild: ESM, code-split so that `serve` and
// `simulate` (which pull in aedes, the HTTP stack and mqtt.js) are separate chunks loaded only by
// those commands. Most packages stay external (node_modules is there at run time; see INLINE). Writes
// out/cli/manifest.json, which bin/keyport.mjs reads to tell whether the bundle is this
// checkout's code (see bin/cli-bundle.mjs). Run by `npm run build` and `prepare`.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { BUNDLE_DIR, ENTRY, MANIFEST, hashFile } from '../bin/cli-bundle.mjs';

// Bundled in: the small pure-JS packages every command loads (saves Node's package resolution and,
// for ipaddr.js, its CommonJS loader on each start). Everything else (aedes, mqtt, ws, selfsigned)
// stays a normal import from node_modules, loaded only by the chunks that need it.
const INLINE = new Set([
  'ipaddr.js',
  'lowdb',
  'lowdb/node',
  'steno',
  '@sinclair/typebox',
  '@sinclair/typebox/compiler',
  '@sinclair/typebox/errors',
  '@sinclair/typebox/value',
]);
/** @type {import('esbuild').Plugin} */
const externalExceptSmall = {
  name: 'external-except-small',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      INLINE.has(args.path) || args.path.startsWith('node:') ? undefined : { path: args.path, external: true },
    );
  },
};

/**
 * @param {string} [root] the repository
 * @returns {Promise<{ outdir: string, inputs: number }>}
 */
export async function buildCli(root = resolve(fileURLToPath(import.meta.url), '../..')) {
  const outdir = join(root, BUNDLE_DIR);
  // Taken BEFORE reading the sources: a file saved during the build is newer and gets re-hashed.
  const builtAtMs = Date.now();
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { main: 'src-main/cli/main.ts' },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.18',
    plugins: [externalExceptSmall],
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
    chunkNames: '[name]-[hash]',
  });
  /** @type {Record<string, string>} */
  const inputs = {};
  for (const rel of Object.keys(result.metafile.inputs).sort()) inputs[rel] = hashFile(join(root, rel));
  writeFileSync(join(outdir, MANIFEST), JSON.stringify({ builtAtMs, entry: ENTRY, inputs }, null, 2) + '\n');
  return { outdir: relative(root, outdir), inputs: Object.keys(inputs).length };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = performance.now();
  const r = await buildCli();
  console.log(`built the keyport CLI into ${r.outdir} (${r.inputs} sources, ${Math.round(performance.now() - t0)} ms)`);
}

// Is the built CLI (out/cli, made by scripts/build-cli.mjs) the code of this checkout?
// The build writes out/cli/manifest.json: the time the build started and a SHA-256 of every source
// file that went into the bundle. A source file whose mtime is not newer than the build is taken as
// unchanged without reading it (the common case costs one stat a file); a newer one is hashed, so a
// `git checkout` or `touch` that leaves the content alone does not count as an edit.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const BUNDLE_DIR = join('out', 'cli');
export const MANIFEST = 'manifest.json';
export const ENTRY = 'main.js';

/**
 * SHA-256 (hex) of a file's bytes.
 * @param {string} file
 * @returns {string}
 */
export function hashFile(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/**
 * The state of the bundle under `root` (the repository):
 *   { state: 'fresh', entry } — run it;
 *   { state: 'missing' | 'stale', why } — do not: `why` is one short phrase for a note on stderr;
 *   { state: 'no-sources', entry } — a bundle but no sources (an installed copy): run it.
 * @param {string} root
 * @returns {import('./cli-bundle.d.mts').BundleState}
 */
export function bundleState(root) {
  const dir = join(root, BUNDLE_DIR);
  const entry = join(dir, ENTRY);
  const manifestFile = join(dir, MANIFEST);
  if (!existsSync(entry) || !existsSync(manifestFile))
    return { state: 'missing', why: `no built CLI in ${BUNDLE_DIR}` };
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  } catch {
    return { state: 'missing', why: `${BUNDLE_DIR}/${MANIFEST} is unreadable` };
  }
  const inputs = manifest && typeof manifest.inputs === 'object' ? manifest.inputs : null;
  if (!inputs || typeof manifest.builtAtMs !== 'number')
    return { state: 'missing', why: `${BUNDLE_DIR}/${MANIFEST} is not a CLI build manifest` };
  if (!existsSync(join(root, 'src-main'))) return { state: 'no-sources', entry };
  for (const [rel, hash] of Object.entries(inputs)) {
    const file = join(root, rel);
    let st;
    try {
      st = statSync(file);
    } catch {
      return { state: 'stale', why: `${rel} was removed since the CLI was built` };
    }
    if (st.mtimeMs > manifest.builtAtMs && hashFile(file) !== hash)
      return { state: 'stale', why: `${rel} changed since the CLI was built` };
  }
  return { state: 'fresh', entry };
}

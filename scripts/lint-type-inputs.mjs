// One digest of everything the type-aware ESLint rules can see (tsconfig.node.json's program:
// sources, tests, scripts, configs, and the installed packages through package-lock.json).
// eslint.config.js puts it in the type-aware block's settings, so it is part of ESLint's cache key
// for those files: `eslint --cache` may reuse a result only when no input of the type checker
// changed. Without it, editing a function in one file to return a promise would leave a cached
// "no floating promise" verdict on every unchanged caller.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Folders whose files the type checker reads (the renderer's lib is imported by tests). */
const DIRS = ['src-main', 'src-renderer/lib', 'test', 'bench', 'scripts', 'bin'];
/** Root files: the TypeScript projects, the configs tsconfig.node.json includes, the lockfile. */
const ROOT_FILE = /^(tsconfig(\.\w+)?\.json|package(-lock)?\.json|[\w.-]+\.config\.(ts|js)|\.dependency-cruiser\.cjs)$/;
const SOURCE = /\.(ts|mts|cts|mjs|cjs|js|json)$/;

/**
 * @param {string} dir
 * @param {string[]} out
 */
function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return; // a folder this checkout does not have
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== 'results') walk(path, out);
    } else if (e.isFile() && SOURCE.test(e.name)) out.push(path);
  }
}

/**
 * sha-256 over the paths and contents of the type checker's inputs under `root`.
 * @param {string} root the repository
 * @returns {string}
 */
export function typeInputsDigest(root) {
  /** @type {string[]} */
  const files = readdirSync(root).filter((n) => ROOT_FILE.test(n));
  const rel = files.map((n) => n);
  for (const d of DIRS) {
    /** @type {string[]} */
    const found = [];
    walk(join(root, d), found);
    for (const f of found) rel.push(f.slice(root.length + 1));
  }
  rel.sort();
  const h = createHash('sha256');
  for (const f of rel)
    h.update(`${f}\0`)
      .update(readFileSync(join(root, f)))
      .update('\0');
  return h.digest('hex');
}

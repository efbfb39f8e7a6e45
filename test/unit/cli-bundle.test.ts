// bin/cli-bundle.mjs: when the bin may run out/cli, and when it must not (missing or stale).
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bundleState, hashFile } from '../../bin/cli-bundle.mjs';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

/** A checkout with two sources and a bundle built from them at time `builtAtMs`. */
function checkout(builtAtMs = Date.now() + 60_000): string {
  const root = mkdtempSync(join(tmpdir(), 'keyport-bundle-'));
  roots.push(root);
  mkdirSync(join(root, 'src-main', 'cli'), { recursive: true });
  mkdirSync(join(root, 'out', 'cli'), { recursive: true });
  writeFileSync(join(root, 'src-main', 'cli', 'main.ts'), 'export const a = 1;\n');
  writeFileSync(join(root, 'src-main', 'cli', 'usage.ts'), 'export const b = 2;\n');
  writeFileSync(join(root, 'out', 'cli', 'main.js'), 'export const a = 1;\n');
  const inputs = Object.fromEntries(
    ['src-main/cli/main.ts', 'src-main/cli/usage.ts'].map((rel) => [rel, hashFile(join(root, rel))]),
  );
  writeFileSync(join(root, 'out', 'cli', 'manifest.json'), JSON.stringify({ builtAtMs, entry: 'main.js', inputs }));
  return root;
}

describe('bundleState', () => {
  it('fresh when every source is older than the build', () => {
    const root = checkout();
    expect(bundleState(root)).toEqual({ state: 'fresh', entry: join(root, 'out', 'cli', 'main.js') });
  });

  it('fresh when a source is newer but has the same content (a checkout or touch)', () => {
    const root = checkout(Date.now() - 60_000);
    expect(bundleState(root).state).toBe('fresh');
  });

  it('stale, naming the file, when a source changed after the build', () => {
    const root = checkout(Date.now() - 60_000);
    writeFileSync(join(root, 'src-main', 'cli', 'usage.ts'), 'export const b = 3;\n');
    expect(bundleState(root)).toEqual({ state: 'stale', why: 'src-main/cli/usage.ts changed since the CLI was built' });
  });

  it('not stale for an edit whose mtime is older than the build (mtime is the cheap first check)', () => {
    const root = checkout();
    const file = join(root, 'src-main', 'cli', 'usage.ts');
    writeFileSync(file, 'export const b = 3;\n');
    const old = new Date(Date.now() - 120_000);
    utimesSync(file, old, old);
    // Documents the trade-off: a file edited and then back-dated is not detected.
    expect(bundleState(root).state).toBe('fresh');
  });

  it('stale when a source went away', () => {
    const root = checkout();
    rmSync(join(root, 'src-main', 'cli', 'main.ts'));
    expect(bundleState(root)).toEqual({
      state: 'stale',
      why: 'src-main/cli/main.ts was removed since the CLI was built',
    });
  });

  it('missing without a bundle or with a broken manifest', () => {
    const root = checkout();
    writeFileSync(join(root, 'out', 'cli', 'manifest.json'), '{');
    expect(bundleState(root)).toEqual({ state: 'missing', why: 'out/cli/manifest.json is unreadable' });
    writeFileSync(join(root, 'out', 'cli', 'manifest.json'), '{"inputs":{}}');
    expect(bundleState(root).state).toBe('missing');
    rmSync(join(root, 'out'), { recursive: true });
    expect(bundleState(root)).toEqual({ state: 'missing', why: 'no built CLI in out/cli' });
  });

  it('runs the bundle of a copy without sources (nothing to be stale against)', () => {
    const root = checkout();
    rmSync(join(root, 'src-main'), { recursive: true });
    expect(bundleState(root).state).toBe('no-sources');
  });
});

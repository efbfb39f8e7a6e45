// scripts/build-state.mjs: when `npm test` may skip its build (out/ is the build of exactly these
// inputs) and when it must build (anything changed, added, removed or missing).
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BUILD_MANIFEST,
  OUTPUTS,
  buildState,
  inputFiles,
  inputsDigest,
  writeBuildManifest,
} from '../../../scripts/build-state.mjs';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

function put(root: string, rel: string, text: string): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), text);
}

/** A checkout with a few inputs, every output the tests use, and a manifest of that build. */
function built(): string {
  const root = mkdtempSync(join(tmpdir(), 'keyport-build-state-'));
  roots.push(root);
  put(root, 'src-main/index.ts', 'export {};\n');
  put(root, 'src-renderer/App.svelte', '<p>hi</p>\n');
  put(root, 'resources/icon.png', 'png');
  put(root, 'package-lock.json', '{}\n');
  put(root, 'electron.vite.config.ts', 'export default {};\n');
  put(root, 'test/unit/x.test.ts', 'not an input\n');
  for (const o of OUTPUTS) put(root, o, 'built\n');
  writeBuildManifest(root, inputsDigest(root));
  return root;
}

describe('buildState', () => {
  it('fresh right after a build; the inputs are the sources, resources and configs, not the tests', () => {
    const root = built();
    expect(buildState(root)).toEqual({ fresh: true });
    expect(inputFiles(root)).toEqual([
      'electron.vite.config.ts',
      'package-lock.json',
      'resources/icon.png',
      'src-main/index.ts',
      'src-renderer/App.svelte',
    ]);
    // An edit outside the inputs (a test) does not call for a build.
    put(root, 'test/unit/x.test.ts', 'edited\n');
    expect(buildState(root)).toEqual({ fresh: true });
  });

  it('stale after an edit, a new file, a removed file or a changed lockfile', () => {
    const edits: Array<(root: string) => void> = [
      (r) => put(r, 'src-main/index.ts', 'export const edited = 1;\n'),
      (r) => put(r, 'src-renderer/New.svelte', '<p>new</p>\n'),
      (r) => unlinkSync(join(r, 'resources/icon.png')),
      (r) => put(r, 'package-lock.json', '{"lockfileVersion":3}\n'),
    ];
    for (const edit of edits) {
      const root = built();
      edit(root);
      expect(buildState(root)).toEqual({ fresh: false, why: 'the sources changed since the last build' });
    }
  });

  it('not fresh without a manifest, with an unreadable one, or with an output missing', () => {
    const a = built();
    unlinkSync(join(a, BUILD_MANIFEST));
    expect(buildState(a)).toEqual({ fresh: false, why: `no ${BUILD_MANIFEST}` });
    const b = built();
    writeFileSync(join(b, BUILD_MANIFEST), '{not json');
    expect(buildState(b)).toEqual({ fresh: false, why: `${BUILD_MANIFEST} is unreadable` });
    const c = built();
    unlinkSync(join(c, 'out/main/index.js'));
    expect(buildState(c)).toEqual({ fresh: false, why: 'out/main/index.js is missing' });
  });
});

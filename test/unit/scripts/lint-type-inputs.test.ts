// The digest eslint.config.js adds to the type-aware rules' config, so that `eslint --cache`
// re-lints those files whenever anything the type checker reads has changed (and only then).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { typeInputsDigest } from '../../../scripts/lint-type-inputs.mjs';

const root = mkdtempSync(join(tmpdir(), 'keyport-digest-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function put(rel: string, text: string): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), text);
}

put('tsconfig.node.json', '{}');
put('package-lock.json', '{"lockfileVersion":3}');
put('vitest.config.ts', 'export default {};');
put('src-main/core/a.ts', 'export const f = (): number => 1;');
put('test/unit/b.test.ts', "import { f } from '../../src-main/core/a.ts'; f();");
put('scripts/s.mjs', 'export const s = 1;');
put('src-renderer/lib/decision-list.ts', 'export const d = 1;');
put('src-renderer/components/App.svelte', '<p>hi</p>');
put('out/main/index.js', 'built');
put('README.md', '# readme');

describe('typeInputsDigest', () => {
  it('is stable while nothing changes', () => {
    expect(typeInputsDigest(root)).toMatch(/^[0-9a-f]{64}$/);
    expect(typeInputsDigest(root)).toBe(typeInputsDigest(root));
  });

  it.each([
    ['a source another file imports', 'src-main/core/a.ts', 'export const f = async (): Promise<number> => 1;'],
    ['a test', 'test/unit/b.test.ts', '// edited'],
    ['a script the tests import', 'scripts/s.mjs', 'export const s = 2;'],
    ['the renderer lib the tests import', 'src-renderer/lib/decision-list.ts', 'export const d = 2;'],
    ['the installed packages (lockfile)', 'package-lock.json', '{"lockfileVersion":3,"x":1}'],
    ['a TypeScript project', 'tsconfig.node.json', '{"compilerOptions":{}}'],
    ['a config file in the program', 'vitest.config.ts', 'export default { x: 1 };'],
    ['a new file', 'src-main/core/new.ts', 'export {};'],
  ])('changes when %s changes', (_what, rel, text) => {
    const before = typeInputsDigest(root);
    put(rel, text);
    expect(typeInputsDigest(root)).not.toBe(before);
  });

  it('ignores what the type checker does not read: components, build output, docs', () => {
    const before = typeInputsDigest(root);
    put('src-renderer/components/App.svelte', '<p>edited</p>');
    put('out/main/index.js', 'rebuilt');
    put('README.md', '# edited');
    expect(typeInputsDigest(root)).toBe(before);
  });
});

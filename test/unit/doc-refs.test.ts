// scripts/check-doc-refs.mjs: the tree's references to docs/design.md all resolve, and the
// checker really fails on each kind of rot (fixture trees in a temp directory).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkDocRefs, parseDoc } from '../../scripts/check-doc-refs.mjs';

const root = resolve(import.meta.dirname, '../..');
const script = join(root, 'scripts', 'check-doc-refs.mjs');
// Built from parts so that this file itself holds no reference for the checker to judge.
const S = '§';
const OLD = 'SPEC';
const HASH = '#';

const DOC = [
  '# Design',
  '',
  '<a id="s1"></a>',
  '',
  `## ${S}1 One`,
  '',
  `See ${S}2 and [the gaps](#gaps).`,
  '',
  '<a id="s2"></a>',
  '',
  `## ${S}2 Two`,
  '',
  '<a id="gaps"></a>',
  '',
  '## Gaps',
  '',
].join('\n');

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'keyport-docrefs-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries({ 'docs/design.md': DOC, ...files })) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

describe('the repository', () => {
  it('has no dangling or bare design references, and cites the design doc throughout', () => {
    const { problems, references } = checkDocRefs(root);
    expect(problems).toEqual([]);
    expect(references).toBeGreaterThan(89); // 89 code references were rewritten, plus the doc's own
  });

  it('defines every section the code was written against, each with its anchor', () => {
    const doc = parseDoc(readFileSync(join(root, 'docs/design.md'), 'utf8'), 'docs/design.md');
    const wanted = [...Array.from({ length: 13 }, (_, i) => String(i + 1)), '4a', '7a', '8a', '12a', '12b'];
    expect([...doc.sections.keys()].sort()).toEqual(wanted.sort());
    for (const id of wanted) expect(doc.anchors.has(`s${id}`)).toBe(true);
  });
});

describe('checkDocRefs on fixture trees', () => {
  it('accepts good references, lists included', () => {
    const dir = tree({ 'src-main/a.ts': `// docs/design.md ${S}1, ${S}2: fine\n// docs/design.md${HASH}gaps\n` });
    expect(checkDocRefs(dir)).toMatchObject({ problems: [], references: 3 }); // two here, one in the document itself
  });

  it('names a section the document lacks', () => {
    const dir = tree({ 'test/x.test.ts': `\n// docs/design.md ${S}1, ${S}9\n` });
    expect(checkDocRefs(dir).problems).toEqual([`test/x.test.ts:2: docs/design.md has no ${S}9`]);
  });

  it('refuses the old form that pointed outside the repository', () => {
    const dir = tree({ 'bench/b.ts': `// ${OLD} ${S}4\n`, 'README.md': `see ${OLD}.md\n` });
    const { problems } = checkDocRefs(dir);
    expect(problems).toContain(
      'bench/b.ts:1: a SPEC reference points outside the repository; cite docs/design.md §N instead',
    );
    expect(problems).toContain(`bench/b.ts:1: ${S}4 does not say which document it cites (write docs/design.md ${S}4)`);
    expect(problems).toContain(
      'README.md:1: a SPEC reference points outside the repository; cite docs/design.md §N instead',
    );
  });

  it('refuses a section sign that names no document, outside docs/', () => {
    const dir = tree({ 'src-renderer/v.svelte': `<script>\n  // the ${S}5 table\n</script>\n` });
    expect(checkDocRefs(dir).problems).toEqual([
      `src-renderer/v.svelte:2: ${S}5 does not say which document it cites (write docs/design.md ${S}5)`,
    ]);
  });

  it('refuses a missing document, a missing anchor, and a broken in-document link', () => {
    const dir = tree({
      'scripts/s.mjs': `// docs/other.md ${S}1\n// docs/design.md${HASH}nowhere\n`,
      'docs/design.md': DOC + `[x](#missing) and ${S}3\n`,
    });
    expect(checkDocRefs(dir).problems.sort()).toEqual(
      [
        `scripts/s.mjs:1: docs/other.md does not exist (cited for ${S}1)`,
        'scripts/s.mjs:2: docs/design.md has no anchor #nowhere',
        'docs/design.md:16: no anchor #missing in this document',
        `docs/design.md:16: docs/design.md has no ${S}3`,
      ].sort(),
    );
  });

  it('refuses a section without its stable anchor, and a section defined twice', () => {
    const doc = DOC + `## ${S}3 Three\n\n<a id="s1"></a>\n\n## ${S}1 Again\n`;
    const { problems } = parseDoc(doc, 'docs/design.md');
    expect(problems).toEqual([
      `docs/design.md:16: ${S}3 has no stable anchor <a id="s3"></a> just above its heading`,
      `docs/design.md:20: ${S}1 is defined twice (first at line 5)`,
    ]);
  });

  it('exits 1 with the problems on stderr when run as a script, 0 when clean', () => {
    const bad = tree({ 'src-main/a.ts': `// docs/design.md ${S}42\n` });
    const failed = spawnSync(process.execPath, [script, bad], { encoding: 'utf8' });
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain(`src-main/a.ts:1: docs/design.md has no ${S}42`);
    const good = tree({ 'src-main/a.ts': `// docs/design.md ${S}2\n` });
    const passed = spawnSync(process.execPath, [script, good], { encoding: 'utf8' });
    expect(passed.status).toBe(0);
    expect(passed.stdout).toContain('all resolve');
  });
});

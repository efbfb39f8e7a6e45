#!/usr/bin/env node
// Keeps the tree's references to the design document from rotting. Code, tests, benches, scripts,
// the README and docs/ cite sections as `docs/design.md §4` (or `docs/design.md §11, §12`); this
// fails when
//   - a cited section is not a heading `## §N …` of that file,
//   - a `§N` appears on a line with no `docs/<file>.md` before it (outside docs/, where a bare §N
//     means the same file), so a reference cannot silently point somewhere unnamed,
//   - the old form that pointed outside the repository (the word SPEC before a section sign, or
//     the old spec file's name) is used,
//   - a `docs/<file>.md#anchor` or in-document `(#anchor)` link names no `<a id="anchor">`,
//   - a section heading lacks its stable anchor `<a id="sN"></a>`, or a section is defined twice.
// Usage: node scripts/check-doc-refs.mjs [ROOT]   (exit 0 clean, 1 problems found)
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where references may live, relative to the root. */
export const SCANNED = ['README.md', 'src-main', 'src-renderer', 'test', 'bench', 'scripts', 'docs'];
const SKIP_DIRS = new Set(['node_modules', 'out', 'dist', '.git', 'results', 'test-results']);
const EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.svelte', '.md', '.html', '.css', '.yml'];

const SECTION_HEADING = /^#{2,6}\s+§([0-9]+[a-z]?)\b/;
const ANCHOR = /<a id="([\w-]+)"><\/a>/g;
const SECTION_TOKEN = /§([0-9]+[a-z]?)/g;
const DOC_NAME = /docs\/([\w.-]+\.md)/g;
const OLD_FORM = /\bSPEC\s*§|\bSPEC\.md\b/;
const DOC_ANCHOR_LINK = /docs\/([\w.-]+\.md)#([\w-]+)/g;
const LOCAL_ANCHOR_LINK = /\]\(#([\w-]+)\)/g;

/**
 * Sections and anchors of one markdown document, with the problems found in it.
 * @param {string} text
 * @param {string} name the file's path, for messages
 */
export function parseDoc(text, name) {
  /** @type {Map<string, number>} */
  const sections = new Map();
  /** @type {Set<string>} */
  const anchors = new Set();
  /** @type {string[]} */
  const problems = [];
  const lines = text.split('\n');
  for (const line of lines) for (const m of line.matchAll(ANCHOR)) anchors.add(m[1] ?? '');
  lines.forEach((line, i) => {
    const m = SECTION_HEADING.exec(line);
    if (!m) return;
    const id = m[1] ?? ''; // the pattern's one group always takes part in a match
    if (sections.has(id)) {
      problems.push(`${name}:${i + 1}: §${id} is defined twice (first at line ${sections.get(id)})`);
      return;
    }
    sections.set(id, i + 1);
    // The anchor sits on one of the lines just above the heading (a blank line may separate them).
    const above = lines.slice(Math.max(0, i - 2), i).join('\n');
    if (!above.includes(`<a id="s${id}"></a>`))
      problems.push(`${name}:${i + 1}: §${id} has no stable anchor <a id="s${id}"></a> just above its heading`);
  });
  return { sections, anchors, problems };
}

/**
 * @param {string} dir
 * @returns {Generator<string, void, undefined>}
 */
function* walk(dir) {
  for (const entry of readdirSync(dir)) {
    if (SKIP_DIRS.has(entry)) continue;
    const path = join(dir, entry);
    const st = statSync(path);
    if (st.isDirectory()) yield* walk(path);
    else if (EXTENSIONS.some((ext) => entry.endsWith(ext))) yield path;
  }
}

/**
 * @param {string} root
 * @returns {string[]}
 */
function scannedFiles(root) {
  /** @type {string[]} */
  const files = [];
  for (const item of SCANNED) {
    const path = join(root, item);
    if (!existsSync(path)) continue;
    if (statSync(path).isDirectory()) files.push(...walk(path));
    else files.push(path);
  }
  return files;
}

/**
 * Checks every reference under `root`.
 * @param {string} root
 * @returns {{ problems: string[], references: number, files: number }}
 */
export function checkDocRefs(root) {
  /** @type {string[]} */
  const problems = [];
  /** @type {Map<string, ReturnType<typeof parseDoc> | null>} */
  const docs = new Map();
  const docFor = (/** @type {string} */ file) => {
    if (!docs.has(file)) {
      const path = join(root, 'docs', file);
      if (!existsSync(path)) docs.set(file, null);
      else {
        const parsed = parseDoc(readFileSync(path, 'utf8'), `docs/${file}`);
        problems.push(...parsed.problems);
        docs.set(file, parsed);
      }
    }
    return docs.get(file) ?? null;
  };

  let references = 0;
  const files = scannedFiles(root);
  for (const path of files) {
    const rel = relative(root, path).split(sep).join('/');
    const ownDoc = rel.startsWith('docs/') && rel.endsWith('.md') ? rel.slice('docs/'.length) : null;
    if (ownDoc) docFor(ownDoc);
    const lines = readFileSync(path, 'utf8').split('\n');
    lines.forEach((line, i) => {
      const where = `${rel}:${i + 1}`;
      if (OLD_FORM.test(line))
        problems.push(`${where}: a SPEC reference points outside the repository; cite docs/design.md §N instead`);
      const names = [...line.matchAll(DOC_NAME)].map((m) => ({ at: m.index ?? 0, file: m[1] ?? '' }));
      // A section's own heading defines it; it is not a reference.
      const tokens = ownDoc && SECTION_HEADING.test(line) ? [] : line.matchAll(SECTION_TOKEN);
      for (const m of tokens) {
        const at = m.index ?? 0;
        const id = m[1] ?? '';
        const named = names.filter((n) => n.at < at).pop();
        const file = named?.file ?? ownDoc;
        if (!file) {
          problems.push(`${where}: §${id} does not say which document it cites (write docs/design.md §${id})`);
          continue;
        }
        references++;
        const doc = docFor(file);
        if (!doc) problems.push(`${where}: docs/${file} does not exist (cited for §${id})`);
        else if (!doc.sections.has(id)) problems.push(`${where}: docs/${file} has no §${id}`);
      }
      for (const m of line.matchAll(DOC_ANCHOR_LINK)) {
        const doc = docFor(m[1] ?? '');
        if (!doc) problems.push(`${where}: docs/${m[1]} does not exist (linked as #${m[2]})`);
        else if (!doc.anchors.has(m[2] ?? '')) problems.push(`${where}: docs/${m[1]} has no anchor #${m[2]}`);
      }
      if (ownDoc) {
        for (const m of line.matchAll(LOCAL_ANCHOR_LINK)) {
          if (!docFor(ownDoc)?.anchors.has(m[1] ?? '')) problems.push(`${where}: no anchor #${m[1]} in this document`);
        }
      }
    });
  }
  return { problems, references, files: files.length };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? join(fileURLToPath(new URL('.', import.meta.url)), '..'));
  const { problems, references, files } = checkDocRefs(root);
  if (problems.length) {
    for (const p of problems) console.error(p);
    console.error(`check-doc-refs: ${problems.length} problem(s) in ${files} files`);
    process.exit(1);
  }
  console.log(`check-doc-refs: ${references} section references in ${files} files, all resolve`);
}

// Plain-text tables for the console (and Markdown tables for the README section).

export type Cell = string | number;

function text(c: Cell): string {
  return typeof c === 'number' ? String(c) : c;
}

/** A boxed, column-aligned table; numbers and ratios are right-aligned. */
export function renderTable(title: string, header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const all = [header.map(text), ...rows.map((r) => r.map(text))];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const numeric = header.map(
    (_, i) => rows.length > 0 && rows.every((r) => /^[-–\d.,×%]+( ?[a-zA-Z/µ]+)?$|^–$/.test(text(r[i] ?? ''))),
  );
  const line = (r: readonly string[]) =>
    '│ ' +
    widths
      .map((w, i) =>
        numeric[i] && all.indexOf(r as string[]) !== 0 ? (r[i] ?? '').padStart(w) : (r[i] ?? '').padEnd(w),
      )
      .join(' │ ') +
    ' │';
  const rule = (l: string, m: string, r: string) => l + widths.map((w) => '─'.repeat(w + 2)).join(m) + r;
  return [
    title,
    rule('┌', '┬', '┐'),
    line(all[0] as string[]),
    rule('├', '┼', '┤'),
    ...all.slice(1).map(line),
    rule('└', '┴', '┘'),
  ].join('\n');
}

export function markdownTable(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map((c) => esc(text(c))).join(' | ')} |`),
  ].join('\n');
}

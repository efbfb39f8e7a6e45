// Puts the rendered Performance section (readme.ts) into README.md between its two markers,
// leaving the rest of the README as it is.
export const README_START = '<!-- bench:performance:start (npm run bench -- --readme writes this part) -->';
export const README_END = '<!-- bench:performance:end -->';

export function spliceReadme(readme: string, section: string): string {
  const a = readme.indexOf(README_START);
  const b = readme.indexOf(README_END);
  if (a < 0 || b < a || readme.indexOf(README_START, a + 1) >= 0 || readme.indexOf(README_END, b + 1) >= 0)
    throw new Error(`README.md needs exactly one "${README_START}" followed by one "${README_END}"`);
  return `${readme.slice(0, a + README_START.length)}\n\n${section.trim()}\n\n${readme.slice(b)}`;
}

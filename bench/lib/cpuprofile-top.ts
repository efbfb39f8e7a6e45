// Reads a V8 .cpuprofile (node --cpu-prof) and prints the functions with the most self time,
// and self time per file. Usage: node bin/run-ts.mjs bench/lib/cpuprofile-top.ts FILE [N]
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

export function topSelf(
  profile: Profile,
  n = 30,
): { byFunction: [string, number][]; byFile: [string, number][]; totalMs: number } {
  const self = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i] as number;
    self.set(id, (self.get(id) ?? 0) + (deltas[i] ?? 0) / 1000);
  }
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const node of profile.nodes) {
    const ms = self.get(node.id) ?? 0;
    if (!ms) continue;
    const f = node.callFrame;
    const file =
      f.url
        .replace(/^file:\/\//, '')
        .replace(/^.*\/node_modules\//, 'node_modules/')
        .replace(/^.*\/(src-main|bench)\//, '$1/') || `(${f.functionName || 'native'})`;
    const key = `${f.functionName || '(anonymous)'}  ${file}:${f.lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + ms);
    byFile.set(file, (byFile.get(file) ?? 0) + ms);
  }
  const top = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
  return { byFunction: top(byFn), byFile: top(byFile), totalMs: (profile.endTime - profile.startTime) / 1000 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: cpuprofile-top.ts FILE.cpuprofile [N]\n');
    process.exit(2);
  }
  const r = topSelf(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(process.argv[3] ?? 30));
  const sampled = r.byFunction.reduce((a, [, ms]) => a + ms, 0);
  console.log(`profile: ${r.totalMs.toFixed(0)} ms wall; top functions by self time:`);
  for (const [k, ms] of r.byFunction) console.log(`${ms.toFixed(1).padStart(9)} ms  ${k}`);
  console.log(`\nby file (top ${r.byFile.length}; listed functions cover ${sampled.toFixed(0)} ms):`);
  for (const [k, ms] of r.byFile) console.log(`${ms.toFixed(1).padStart(9)} ms  ${k}`);
}

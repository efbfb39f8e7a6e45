import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TestSpecification, Vitest } from 'vitest/node';
import LongestFirst from '../../helpers/sequencer.ts';
import table from '../../file-durations.json' with { type: 'json' };

const ROOT = '/repo';

/** The parts of a TestSpecification the sequencer reads. */
function spec(file: string, project = 'shared'): TestSpecification {
  return { moduleId: join(ROOT, file), project: { name: project } } as unknown as TestSpecification;
}

/** A Vitest context with a results cache (`durations`, ms) and file sizes, as vitest fills them. */
function ctx(
  sizes: Record<string, number>,
  results: Record<string, { duration: number; failed: boolean }> = {},
): Vitest {
  return {
    config: { root: ROOT },
    cache: {
      getFileTestResults: (key: string) => results[key],
      getFileStats: (key: string) => (key.split(':')[1]! in sizes ? { size: sizes[key.split(':')[1]!] } : undefined),
    },
  } as unknown as Vitest;
}

const names = (files: TestSpecification[]): string[] => files.map((f) => f.moduleId.slice(ROOT.length + 1));

describe('test sequencer (longest first on a fresh clone)', () => {
  it('without a results cache orders by test/file-durations.json, not by size; unknown files last by size', async () => {
    const [slow, slower] = Object.entries(table)
      .sort((a, b) => a[1] - b[1])
      .slice(-2)
      .map(([f]) => f);
    const files = ['test/unit/big.test.ts', 'test/unit/small.test.ts', slow!, slower!];
    const sizes = { 'test/unit/big.test.ts': 90_000, 'test/unit/small.test.ts': 100, [slow!]: 10, [slower!]: 20 };
    const sorted = await new LongestFirst(ctx(sizes)).sort(files.map((f) => spec(f)));
    expect(names(sorted)).toEqual([slower, slow, 'test/unit/big.test.ts', 'test/unit/small.test.ts']);
  });

  it("the machine's own cached durations win over the table, and a failed file goes first", async () => {
    const [slowest] = Object.entries(table).sort((a, b) => b[1] - a[1])[0]!;
    const results = {
      [`shared:${slowest}`]: { duration: 10, failed: false },
      'shared:test/unit/a.test.ts': { duration: 5_000, failed: false },
      'shared:test/unit/b.test.ts': { duration: 1, failed: true },
    };
    const files = [slowest, 'test/unit/a.test.ts', 'test/unit/b.test.ts'];
    const sorted = await new LongestFirst(ctx({}, results)).sort(files.map((f) => spec(f)));
    expect(names(sorted)).toEqual(['test/unit/b.test.ts', 'test/unit/a.test.ts', slowest]);
  });

  it('orders both projects together, by duration (they share one pool)', async () => {
    const results = {
      'isolated:test/unit/shell/y.test.ts': { duration: 100, failed: false },
      'shared:test/unit/x.test.ts': { duration: 9_000, failed: false },
      'shared:test/unit/z.test.ts': { duration: 10, failed: false },
    };
    const sorted = await new LongestFirst(ctx({}, results)).sort([
      spec('test/unit/shell/y.test.ts', 'isolated'),
      spec('test/unit/z.test.ts'),
      spec('test/unit/x.test.ts'),
    ]);
    expect(names(sorted)).toEqual(['test/unit/x.test.ts', 'test/unit/shell/y.test.ts', 'test/unit/z.test.ts']);
  });
});

import { defineConfig } from 'vitest/config';
import LongestFirst from './test/helpers/sequencer.ts';

/** The Electron-shell unit tests: each file `vi.mock`s 'electron' its own way. */
const MOCKING = ['test/unit/shell/**/*.test.ts'];

// 20 s per test and hook: the slowest integration cases start a broker (TLS key generation on
// first use of a data directory), connect dozens of real clients or run a small fleet, and take
// 1-3 s alone; `npm test` runs the files in two parallel forks on 2 shared cores, which has been
// seen to stretch such a case 4-5x. Beyond 20 s a case is stuck, not slow. No CLI case needs it
// for process start-up any more (they run in-process; the smoke tests spawn the built bundle).
const timeouts = { testTimeout: 20_000, hookTimeout: 20_000 };

export default defineConfig({
  test: {
    environment: 'node',
    // Builds out/cli for the spawned CLI smoke tests when it is missing or stale (once per run:
    // the projects below do not repeat it).
    globalSetup: ['test/helpers/cli-global-setup.ts'],
    ...timeouts,
    pool: 'forks',
    // Two forks on 2 cores (vitest's default is cores - 1 = 1, which runs every file in turn):
    // many cases wait on sockets, child processes and server timeouts rather than on the CPU,
    // so a second fork overlaps those waits. More forks than cores only adds contention.
    maxWorkers: 2,
    // Longest files first even on a fresh clone, so no long file is left to run alone at the end
    // (test/helpers/sequencer.ts).
    sequence: { sequencer: LongestFirst },
    projects: [
      {
        test: {
          name: 'shared',
          environment: 'node',
          ...timeouts,
          include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/fault/**/*.test.ts'],
          exclude: MOCKING,
          // Files share a fork's module cache instead of re-importing aedes, fastify, mqtt.js and
          // our sources for each of ~80 files (that re-import was about half of the suite's CPU
          // time). Safe because none of these files mocks a module, stubs a global or leaves
          // fake timers on; every file closes the brokers, servers and clients it starts.
          isolate: false,
        },
      },
      {
        test: {
          name: 'isolated',
          environment: 'node',
          ...timeouts,
          include: MOCKING,
          // vi.mock('electron') differs per file: each file gets a fresh module graph.
          isolate: true,
        },
      },
    ],
  },
});

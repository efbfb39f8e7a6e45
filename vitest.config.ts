import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/fault/**/*.test.ts'],
    environment: 'node',
    // Builds out/cli for the spawned CLI smoke tests when it is missing or stale.
    globalSetup: ['test/helpers/cli-global-setup.ts'],
    // 20 s per test and hook: the slowest integration cases start a broker (TLS key generation on
    // first use of a data directory), connect dozens of real clients or run a small fleet, and take
    // 1-3 s alone; `npm test` runs the files in parallel forks on 2 shared cores, which has been
    // seen to stretch such a case 4-5x. Beyond 20 s a case is stuck, not slow. No CLI case needs it
    // for process start-up any more (they run in-process; the smoke tests spawn the built bundle).
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
  },
});

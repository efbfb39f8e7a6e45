import { defineConfig } from '@playwright/test';

/**
 * Two workers, each with its own server (test/e2e/global-setup.ts): spec files run two at a time,
 * so one spec's waits (a 30 s Losant ban, reconnect back-offs) overlap another's work. A spec's own
 * tests stay in order in one worker (fullyParallel: false; most specs are serial).
 */
const E2E_WORKERS = 2;

// Browser end-to-end tests: Debian's chromium (Playwright cannot download its own browsers here)
// against `keyport serve` on port 0, started by the global setup.
export default defineConfig({
  testDir: 'test/e2e',
  testMatch: '**/*.spec.ts',
  outputDir: 'test-results/e2e-artifacts',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  workers: E2E_WORKERS,
  fullyParallel: false,
  retries: 0,
  globalSetup: './test/e2e/global-setup.ts',
  use: {
    viewport: { width: 1400, height: 900 },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
});

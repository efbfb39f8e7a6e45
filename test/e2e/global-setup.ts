import { once } from 'node:events';
import { mkdirSync, rmSync } from 'node:fs';
import type { FullConfig } from '@playwright/test';
import { saveServerInfo, startServer } from './server.ts';

// Starts one `keyport serve` per Playwright worker, for all the specs that worker runs; the
// returned function is Playwright's teardown: SIGTERM (which closes the listeners and flushes the
// store), wait for each exit, remove the dirs.
export default async function globalSetup(config: FullConfig): Promise<() => Promise<void>> {
  mkdirSync('test-results/screenshots', { recursive: true });
  const servers = await Promise.all(Array.from({ length: config.workers }, (_, i) => startServer(i)));
  servers.forEach(({ info }, i) => saveServerInfo(i, info));
  return async () => {
    await Promise.all(
      servers.map(async ({ info, child }) => {
        if (child.exitCode === null) {
          const exited = once(child, 'exit');
          child.kill('SIGTERM');
          await exited;
        }
        rmSync(info.dataDir, { recursive: true, force: true });
      }),
    );
  };
}

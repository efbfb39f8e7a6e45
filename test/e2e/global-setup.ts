import { once } from 'node:events';
import { mkdirSync, rmSync } from 'node:fs';
import { saveServerInfo, startServer } from './server.ts';

// Starts `keyport serve` once for all specs; the returned function is Playwright's teardown:
// SIGTERM (which closes the listeners and flushes the store), wait for the exit, remove the dir.
export default async function globalSetup(): Promise<() => Promise<void>> {
  mkdirSync('test-results/screenshots', { recursive: true });
  const { info, child } = await startServer();
  saveServerInfo(info);
  return async () => {
    if (child.exitCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(info.dataDir, { recursive: true, force: true });
  };
}

// The desktop app itself: the built app (out/, from `electron-vite build`) launched in the real
// Electron binary through Playwright's _electron, its window showing the first view, wired to the
// main process over IPC (the nav says "Desktop" and lists the broker's listeners). Where there is
// no Electron binary (it could not be downloaded: see `npm start`) or no display, the test reports
// itself SKIPPED with the reason; it is never counted as passed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron as electron, expect, test } from '@playwright/test';
import { electronPackageDir, installedElectron } from '../../scripts/ensure-electron.mjs';

const ROOT = process.cwd();

/** Why the test cannot run here, or null. Never imports 'electron' (that would start a download). */
function whyNot(): { executable: string | null; reason: string | null } {
  let executable: string | null = null;
  try {
    executable = installedElectron(electronPackageDir(process.env, ROOT));
  } catch (err) {
    return { executable, reason: `electron package unreadable: ${(err as Error).message}` };
  }
  if (!executable) {
    return {
      executable,
      reason: 'no Electron binary in node_modules/electron (run `npm start` once where it can be downloaded)',
    };
  }
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { executable, reason: 'no display (DISPLAY/WAYLAND_DISPLAY unset): run under xvfb-run' };
  }
  return { executable, reason: null };
}

test('the desktop app opens its window on the broker view, connected to the main process', async () => {
  const { executable, reason } = whyNot();
  test.skip(reason !== null, reason ?? '');
  const home = mkdtempSync(join(tmpdir(), 'keyport-electron-home-'));
  // Electron puts userData under $XDG_CONFIG_HOME on Linux (and $HOME elsewhere): a scratch store.
  const env: Record<string, string> = { ...(process.env as Record<string, string>), XDG_CONFIG_HOME: home, HOME: home };
  delete env.ELECTRON_RENDERER_URL; // load the built renderer, not a dev server
  const args = [ROOT];
  if (process.getuid?.() === 0) args.push('--no-sandbox'); // Chromium refuses its sandbox as root
  const app = await electron.launch({ executablePath: executable!, args, env, cwd: ROOT });
  try {
    const win = await app.firstWindow();
    await expect(win).toHaveTitle('Keyport');
    const nav = win.getByRole('navigation', { name: 'Main' });
    await expect(nav.getByRole('link', { name: 'Broker' })).toHaveAttribute('aria-current', 'page');
    await expect(nav.getByText('Desktop', { exact: true })).toBeVisible();
    await expect(nav.getByText(/^MQTT :\d+$/)).toBeVisible();
  } finally {
    await app.close();
    rmSync(home, { recursive: true, force: true });
  }
});

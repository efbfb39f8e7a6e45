// The e2e servers: `keyport serve --json` on port 0 in a temp data dir, one per Playwright worker
// (E2E_WORKERS in playwright.config.ts), shared by the spec files that worker runs. A spec reads
// its worker's server by TEST_PARALLEL_INDEX, which Playwright sets in every worker process.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Page } from '@playwright/test';

export interface E2eServer {
  pid: number;
  dataDir: string;
  mqtt: number;
  ws: number;
  tls: number;
  http: number;
  uiUrl: string;
  adminTokenFile: string;
  applicationId: string;
}

/** Which worker's server this process uses (0 outside a worker: global setup, a lone run). */
const slot = (): number => Number(process.env.TEST_PARALLEL_INDEX ?? '0');
const serverFile = (i: number): string => join(process.cwd(), 'test-results', `e2e-server-${i}.json`);
/** Everything server `i` writes to stderr (its log), for specs that assert on log lines. */
const serverLogFile = (i: number): string => join(process.cwd(), 'test-results', `e2e-server-${i}.log`);

/** Start server `i` in a fresh temp data dir, or in `dataDir` (a spec that writes its store first). */
export function startServer(
  i: number,
  dataDir = mkdtempSync(join(tmpdir(), 'keyport-e2e-')),
): Promise<{ info: E2eServer; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [
      'bin/keyport.mjs',
      'serve',
      '--json',
      '--data',
      dataDir,
      '--mqtt-port',
      '0',
      '--ws-port',
      '0',
      '--tls-port',
      '0',
      '--http-port',
      '0',
      // Specs publish fast and use retain; the limits switch spec turns them on through the UI.
      '--limits',
      'off',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KEYPORT_DATA: dataDir },
    },
  );
  let stderr = '';
  mkdirSync(join(process.cwd(), 'test-results'), { recursive: true });
  const log = createWriteStream(serverLogFile(i));
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 65536) stderr += d.toString();
    log.write(d);
  });
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    let json = '';
    rl.on('line', (line) => {
      json += line;
      try {
        const ready = JSON.parse(json) as Omit<E2eServer, 'pid'>;
        rl.close();
        resolve({ info: { ...ready, pid: child.pid ?? 0 }, child });
      } catch {
        // the ready document spans several lines; keep reading
      }
    });
    child.once('exit', (code) => reject(new Error(`keyport serve exited with ${code} before it was ready: ${stderr}`)));
  });
}

export function serverInfo(): E2eServer {
  return JSON.parse(readFileSync(serverFile(slot()), 'utf8')) as E2eServer;
}

export function saveServerInfo(i: number, info: E2eServer): void {
  writeFileSync(serverFile(i), JSON.stringify(info));
}

/** Open a view of the UI (the page must have loaded info.uiUrl once to pick up the token). */
export async function openView(page: Page, info: E2eServer, hash: string): Promise<void> {
  await page.goto(new URL(`/${hash}`, info.uiUrl.replace(/#.*$/, '')).href);
}

/** Call the contract over /rpc with the admin token, as the CLI does. */
export async function rpc<T>(info: E2eServer, method: string, req: unknown): Promise<T> {
  const token = readFileSync(info.adminTokenFile, 'utf8').trim();
  const res = await fetch(`http://127.0.0.1:${info.http}/rpc/${method}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(req),
  });
  const reply = (await res.json()) as { ok: boolean; result: T; error?: { message: string } };
  if (!reply.ok) throw new Error(reply.error?.message);
  return reply.result;
}

export function serverLog(): string {
  return readFileSync(serverLogFile(slot()), 'utf8');
}

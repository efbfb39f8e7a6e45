// How a CLI command reaches the backend: through the running server's API when a server owns
// the data directory (docs/design.md §11), otherwise by taking the lock and opening the store itself.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyportApi, ListenerInfo, MethodName, Reply, Req, Res } from '../contract.ts';
import { ApiError } from '../service/api-error.ts';
import { ensureDataDir, loadPepper } from '../service/data-dir.ts';
import { dispatch } from '../service/dispatch.ts';
import { KeyportService } from '../service/service.ts';
import { removeLeftoverTempFiles } from '../shared/temp-files.ts';
import { acquireLock, readLock } from '../store/lock.ts';
import { openLowdbStore } from '../store/lowdb-store.ts';

export interface Backend {
  api: KeyportApi;
  /** The running server's listeners, when going through one. */
  listeners: ListenerInfo | null;
  close(): Promise<void>;
}

function unwrap<M extends MethodName>(reply: Reply<M>): Res<M> {
  if (!reply.ok) throw new ApiError(reply.error);
  return reply.result;
}

export function httpApi(url: string, token: string): KeyportApi {
  return {
    async call<M extends MethodName>(method: M, req: Req<M>): Promise<Res<M>> {
      let res: Response;
      try {
        res = await fetch(`${url}/rpc/${method}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify(req),
        });
      } catch (err) {
        throw new ApiError({
          code: 'unavailable',
          message: `cannot reach the Keyport server at ${url}: ${(err as Error).message}`,
        });
      }
      // /rpc answers with a Reply; anything else (401 wrong token, 404 from another program on
      // that port, a proxy's HTML page) becomes one clear error instead of a TypeError.
      const text = await res.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      const isReply =
        typeof body === 'object' &&
        body !== null &&
        typeof (body as { ok?: unknown }).ok === 'boolean' &&
        ((body as { ok: boolean }).ok ||
          typeof (body as { error?: { message?: unknown } }).error?.message === 'string');
      if (!isReply) {
        const detail =
          typeof (body as { message?: unknown } | undefined)?.message === 'string'
            ? `: ${(body as { message: string }).message}`
            : '';
        throw new ApiError({
          code: res.status === 401 ? 'unauthorized' : 'unavailable',
          message: `the Keyport server at ${url} answered HTTP ${res.status}${detail}`,
        });
      }
      return unwrap(body as Reply<M>);
    },
  };
}

export async function openBackend(dataDir: string): Promise<Backend> {
  const running = readLock(dataDir);
  if (running?.url && running.adminTokenFile) {
    const api = httpApi(running.url, readFileSync(running.adminTokenFile, 'utf8').trim());
    const info = await api.call('app.info', {});
    return { api, listeners: info.listeners, close: async () => {} };
  }
  ensureDataDir(dataDir);
  const lock = await acquireLock(dataDir, {});
  try {
    await removeLeftoverTempFiles([dataDir, join(dataDir, 'tls')], (l) => process.stderr.write(l + '\n'));
    const store = await openLowdbStore(dataDir);
    const service = new KeyportService({ store, pepper: await loadPepper(dataDir) });
    const ctx = { service, dataDir, listeners: () => null };
    return {
      api: { call: async (method, req) => unwrap(await dispatch(ctx, method, req)) as never },
      listeners: null,
      close: async () => {
        await store.close();
        await lock.release();
      },
    };
  } catch (err) {
    await lock.release();
    throw err;
  }
}

/** Open the backend, run one command against it, always close it. */
export async function withBackend<T>(open: () => Promise<Backend>, fn: (b: Backend) => Promise<T>): Promise<T> {
  const b = await open();
  try {
    return await fn(b);
  } finally {
    await b.close();
  }
}

// `keyport simulate --api URL`: the Keyport server (any node of a cluster) whose HTTP API makes a
// fleet's devices and keys, for a machine that runs simulated devices and no Keyport of its own
// (docs/design.md §7, "Fleets across machines"). The admin token comes from --admin-token-file
// FILE (that server's data-directory file `admin-token`) or KEYPORT_ADMIN_TOKEN, never from the
// command line, and is never printed.
import { readFileSync } from 'node:fs';
import type { CliIo } from './io.ts';
import { UsageError } from './usage.ts';

export function apiOf(url: unknown, tokenFile: unknown, io: CliIo): { api?: { url: string; token: string } } {
  if (url === undefined) {
    if (tokenFile !== undefined) throw new UsageError('--admin-token-file is for --api URL');
    return {};
  }
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    throw new UsageError(`--api must be a Keyport server's URL such as http://host:8080 (got "${String(url)}")`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new UsageError(`--api must start with http:// or https:// (got "${String(url)}")`);
  let token: string | undefined;
  if (tokenFile !== undefined) {
    try {
      token = readFileSync(String(tokenFile), 'utf8').trim();
    } catch (err) {
      throw new UsageError(
        `--admin-token-file ${String(tokenFile)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    if (!token) throw new UsageError(`--admin-token-file ${String(tokenFile)}: the file is empty`);
  } else token = io.env.KEYPORT_ADMIN_TOKEN?.trim() || undefined;
  if (!token)
    throw new UsageError(
      "--api needs that server's admin token: --admin-token-file FILE (the admin-token file in its data directory) or KEYPORT_ADMIN_TOKEN",
    );
  return { api: { url: String(url).replace(/\/+$/, ''), token } };
}

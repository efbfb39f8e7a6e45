// The data directory: where the store, the pepper, the admin token and the lock live (docs/design.md §11).
// Secrets-adjacent files are created with mode 0600 inside a 0700 directory.
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { generatePepper } from '../core/secrets.ts';
import { createFileExclusive, writeFileAtomic } from '../shared/atomic-write.ts';

export const PEPPER_FILE = 'pepper.key';
export const ADMIN_TOKEN_FILE = 'admin-token';

/** `--data DIR`, else KEYPORT_DATA, else ~/.keyport. */
export function resolveDataDir(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(flag ?? env.KEYPORT_DATA ?? join(homedir(), '.keyport'));
}

export function ensureDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

async function readIfExists(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Reads `file`, or creates it (0600, whole: createFileExclusive, so a crash never leaves half a
 * pepper) when absent. A file that fails `check` is reported, never replaced.
 */
async function readOrCreate(
  file: string,
  make: () => Buffer,
  check: (b: Buffer) => boolean,
  what: string,
): Promise<Buffer> {
  for (;;) {
    const existing = await readIfExists(file);
    if (existing) {
      if (!check(existing))
        throw new Error(
          `${file}: ${what} is damaged (unexpected length or content); restore it from a backup or remove it (keys made with it will stop verifying)`,
        );
      return existing;
    }
    const data = make();
    if (await createFileExclusive(file, data, { mode: 0o600 })) return data;
    // Someone created it between our read and our create: use theirs.
  }
}

/** The install-wide pepper for secret verifiers. Kept OUT of the store file on purpose. */
export function loadPepper(dir: string): Promise<Buffer> {
  return readOrCreate(join(dir, PEPPER_FILE), generatePepper, (b) => b.length === 32, 'the pepper file');
}

/** The local admin token that management calls must present (HTTP API, UI bridge). */
export async function loadAdminToken(dir: string): Promise<string> {
  const token = await readOrCreate(
    join(dir, ADMIN_TOKEN_FILE),
    () => Buffer.from(randomBytes(24).toString('hex') + '\n'),
    (b) => /^[0-9a-f]{48}\n?$/.test(b.toString('utf8')),
    'the admin token file',
  );
  return token.toString('utf8').trim();
}

/**
 * Replaces this data directory's admin token (cluster mode: the cluster's token, so the CLI on
 * this machine presents the one every node accepts). Written whole (temp file + rename), 0600.
 */
export async function writeAdminToken(dir: string, token: string): Promise<void> {
  if (!/^[0-9a-f]{48}$/.test(token)) throw new Error('refusing to write a malformed admin token');
  const file = join(dir, ADMIN_TOKEN_FILE);
  const current = await readFile(file, 'utf8').catch(() => null);
  if (current?.trim() === token) return;
  await writeFileAtomic(file, token + '\n', { mode: 0o600 });
}

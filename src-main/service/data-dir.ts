// The data directory: where the store, the pepper, the admin token and the lock live (docs/design.md §11).
// Secrets-adjacent files are created with mode 0600 inside a 0700 directory.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { generatePepper } from '../core/secrets.ts';

export const PEPPER_FILE = 'pepper.key';
export const ADMIN_TOKEN_FILE = 'admin-token';

/** `--data DIR`, else KEYPORT_DATA, else ~/.keyport. */
export function resolveDataDir(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(flag ?? env.KEYPORT_DATA ?? join(homedir(), '.keyport'));
}

export function ensureDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

function readOrCreate(file: string, make: () => Buffer, check: (b: Buffer) => boolean, what: string): Buffer {
  if (existsSync(file)) {
    const data = readFileSync(file);
    if (!check(data))
      throw new Error(
        `${file}: ${what} is damaged (unexpected length or content); restore it from a backup or remove it (keys made with it will stop verifying)`,
      );
    return data;
  }
  const data = make();
  writeFileSync(file, data, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return data;
}

/** The install-wide pepper for secret verifiers. Kept OUT of the store file on purpose. */
export function loadPepper(dir: string): Buffer {
  return readOrCreate(join(dir, PEPPER_FILE), generatePepper, (b) => b.length === 32, 'the pepper file');
}

/** The local admin token that management calls must present (HTTP API, UI bridge). */
export function loadAdminToken(dir: string): string {
  const token = readOrCreate(
    join(dir, ADMIN_TOKEN_FILE),
    () => Buffer.from(randomBytes(24).toString('hex') + '\n'),
    (b) => /^[0-9a-f]{48}\n?$/.test(b.toString('utf8')),
    'the admin token file',
  );
  return token.toString('utf8').trim();
}

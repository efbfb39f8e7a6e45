// The pepper and the admin token of a cluster live in Redis, so every node verifies the same
// secrets and accepts the same admin token (issue 18 item 2; docs/design.md §11, "Clustered
// (Redis)"). The first node to start sets them (SET NX): its data directory's pepper.key and
// admin-token when it has them, so the keys it made before joining keep verifying; fresh random
// ones otherwise. Every later node reads what is there. Neither value is ever logged.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generatePepper } from '../core/secrets.ts';
import { ADMIN_TOKEN_FILE, PEPPER_FILE } from './data-dir.ts';

/** The two Redis calls this needs (an ioredis client has them). */
export interface SecretsRedis {
  set(key: string, value: string, mode: 'NX'): Promise<unknown>;
  get(key: string): Promise<string | null>;
}

export interface ClusterSecrets {
  pepper: Buffer;
  adminToken: string;
  /** Which of them this node's data directory gave the cluster (it was the first node). */
  imported: { pepper: boolean; adminToken: boolean };
}

const PEPPER_HEX = /^[0-9a-f]{64}$/;
const TOKEN_HEX = /^[0-9a-f]{48}$/;

async function readLocal(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** One secret: offered with SET NX, then read back (whoever set it first wins). */
async function agree(
  redis: SecretsRedis,
  key: string,
  offer: string,
  valid: RegExp,
  what: string,
): Promise<{ value: string; ours: boolean }> {
  await redis.set(key, offer, 'NX');
  const value = await redis.get(key);
  if (value === null)
    throw new Error(`Redis key ${key} (${what}) vanished right after it was set; is Redis evicting keys?`);
  if (!valid.test(value))
    throw new Error(
      `Redis key ${key}: ${what} is damaged (unexpected length or content); restore it or delete it (keys made with it will stop verifying)`,
    );
  return { value, ours: value === offer };
}

/**
 * The cluster's pepper and admin token. `dataDir`'s pepper.key and admin-token are offered when
 * they exist (checked like data-dir.ts checks them); nothing is written to the data directory.
 * When this node's files differ from the cluster's, `log` says so (naming files, never values).
 */
export async function loadClusterSecrets(
  redis: SecretsRedis,
  dataDir: string,
  opts: { prefix?: string; log?: (line: string) => void } = {},
): Promise<ClusterSecrets> {
  const prefix = opts.prefix ?? 'keyport:';
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const pepperFile = join(dataDir, PEPPER_FILE);
  const tokenFile = join(dataDir, ADMIN_TOKEN_FILE);
  const localPepper = await readLocal(pepperFile);
  if (localPepper && localPepper.length !== 32)
    throw new Error(`${pepperFile}: the pepper file is damaged (unexpected length or content)`);
  const localToken = (await readLocal(tokenFile))?.toString('utf8').trim() ?? null;
  if (localToken !== null && !TOKEN_HEX.test(localToken))
    throw new Error(`${tokenFile}: the admin token file is damaged (unexpected length or content)`);

  const pepperOffer = (localPepper ?? generatePepper()).toString('hex');
  const pepper = await agree(redis, `${prefix}pepper`, pepperOffer, PEPPER_HEX, 'the cluster pepper');
  const tokenOffer = localToken ?? randomBytes(24).toString('hex');
  const token = await agree(redis, `${prefix}admin-token`, tokenOffer, TOKEN_HEX, 'the cluster admin token');

  if (localPepper && !pepper.ours)
    log(
      `keyport: ${pepperFile} differs from the cluster's pepper; the cluster's is used (keys of this data directory's own store do not verify in the cluster)`,
    );
  if (localToken !== null && !token.ours)
    log(`keyport: ${tokenFile} differs from the cluster's admin token; the cluster's is used`);
  return {
    pepper: Buffer.from(pepper.value, 'hex'),
    adminToken: token.value,
    imported: { pepper: localPepper !== null && pepper.ours, adminToken: localToken !== null && token.ours },
  };
}

// The limits mode kept in the data directory (`<data>/settings.json`, `{"limits":"losant"}`),
// so a switch made in the Broker view survives a restart. `keyport serve --limits` overrides it
// for a run and is stored too. Written with writeFileAtomic (never half a file).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseLimitsMode, type LimitsMode } from '../core/limits.ts';
import { writeFileAtomic } from '../shared/atomic-write.ts';

export const SETTINGS_FILE = 'settings.json';
export const DEFAULT_LIMITS_MODE: LimitsMode = 'losant';

export async function readSettings(dataDir: string): Promise<Record<string, unknown>> {
  const file = join(dataDir, SETTINGS_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message}); fix or remove it`, { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error(`${file}: must be a JSON object such as {"limits":"losant"}`);
  return parsed as Record<string, unknown>;
}

/** The stored mode, or the default (losant) when none is stored. Throws naming a bad value. */
export async function loadLimitsMode(dataDir: string): Promise<LimitsMode> {
  const s = await readSettings(dataDir);
  if (s.limits === undefined) return DEFAULT_LIMITS_MODE;
  try {
    return parseLimitsMode(s.limits);
  } catch (err) {
    throw new Error(`${join(dataDir, SETTINGS_FILE)}: ${(err as Error).message}`, { cause: err });
  }
}

/** Stores `mode`, keeping any other setting in the file. */
export async function saveLimitsMode(dataDir: string, mode: LimitsMode): Promise<void> {
  const s = await readSettings(dataDir);
  s.limits = parseLimitsMode(mode);
  await writeFileAtomic(join(dataDir, SETTINGS_FILE), JSON.stringify(s, null, 2) + '\n');
}

// Simulator credentials kept across restarts, only when the user asks and only encrypted (docs/design.md §7):
// <dataDir>/simulator-credentials.json (mode 0600), never keyport.json. The desktop shell hands in
// Electron's safeStorage as the vault; headless there is none, and saving says so.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ServiceError } from '../shared/errors.ts';
import { writeFileAtomic } from '../shared/atomic-write.ts';
import type { SimBehaviour, SimTransport } from './types.ts';
import { isPlainObject } from '../core/plain-object.ts';

/** What the desktop shell passes (Electron safeStorage fits it). */
export interface CredentialVault {
  available(): boolean;
  encrypt(s: string): Buffer;
  decrypt(b: Buffer): string;
}

export const SIM_CREDENTIALS_FILE = 'simulator-credentials.json';
export const NO_VAULT_MESSAGE = 'saving simulator credentials needs the desktop app (Electron safeStorage)';

/** One saved simulation: everything to rebuild it; key and secret only as vault ciphertext. */
export interface SavedSim {
  id: string;
  deviceId: string;
  name?: string;
  keyId?: string;
  transport: SimTransport;
  sourceAddress?: string;
  url?: string;
  behaviour: SimBehaviour;
  savedAt: string;
  /** base64 of vault.encrypt(JSON {key, secret}). */
  credentials: string;
}

export interface RestoredSim extends Omit<SavedSim, 'credentials'> {
  credentials: { key: string; secret: string };
}

interface FileShape {
  version: 1;
  note: string;
  sims: SavedSim[];
}

export class SavedCredentials {
  readonly file: string;
  #entries = new Map<string, SavedSim>();
  /** Set when the file exists but could not be read: it is then never overwritten. */
  #unreadable: string | null = null;

  constructor(
    dataDir: string,
    private readonly vault?: CredentialVault,
  ) {
    this.file = join(dataDir, SIM_CREDENTIALS_FILE);
  }

  /** Throws 'unavailable' unless credentials can be encrypted here. */
  requireVault(): CredentialVault {
    if (!this.vault) throw new ServiceError('unavailable', NO_VAULT_MESSAGE);
    let ok: boolean;
    try {
      ok = this.vault.available();
    } catch {
      ok = false;
    }
    if (!ok)
      throw new ServiceError(
        'unavailable',
        `${NO_VAULT_MESSAGE}; Electron safeStorage says encryption is not available on this system`,
      );
    return this.vault;
  }

  get usable(): boolean {
    try {
      this.requireVault();
      return true;
    } catch {
      return false;
    }
  }

  /** Reads and decrypts the file. Problems are returned as lines; nothing is thrown or rewritten. */
  async load(): Promise<{ sims: RestoredSim[]; problems: string[] }> {
    if (!this.usable) return { sims: [], problems: [] };
    const vault = this.vault as CredentialVault;
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { sims: [], problems: [] };
      this.#unreadable = `${this.file}: cannot be read: ${(err as Error).message}`;
      return { sims: [], problems: [this.#unreadable] };
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      this.#unreadable = `${this.file}: not valid JSON: ${(err as Error).message}`;
      return { sims: [], problems: [this.#unreadable] };
    }
    if (!isPlainObject(data) || data.version !== 1 || !Array.isArray(data.sims)) {
      this.#unreadable = `${this.file}: not a Keyport simulator credentials file (expected {"version": 1, "sims": [...]})`;
      return { sims: [], problems: [this.#unreadable] };
    }
    const sims: RestoredSim[] = [];
    const problems: string[] = [];
    for (const raw of data.sims as unknown[]) {
      const s = raw as SavedSim;
      if (
        !isPlainObject(raw) ||
        typeof s.id !== 'string' ||
        typeof s.deviceId !== 'string' ||
        typeof s.credentials !== 'string' ||
        !isPlainObject(s.behaviour)
      ) {
        problems.push(`${this.file}: an entry is damaged and was skipped`);
        continue;
      }
      this.#entries.set(s.id, s);
      try {
        const c = JSON.parse(vault.decrypt(Buffer.from(s.credentials, 'base64'))) as {
          key?: unknown;
          secret?: unknown;
        };
        if (typeof c.key !== 'string' || typeof c.secret !== 'string') throw new Error('no key and secret inside');
        sims.push({ ...s, credentials: { key: c.key, secret: c.secret } });
      } catch (err) {
        problems.push(
          `${this.file}: the credentials of simulation ${s.id} cannot be decrypted (${(err as Error).message}); kept in the file, not restored`,
        );
      }
    }
    return { sims, problems };
  }

  has(id: string): boolean {
    return this.#entries.has(id);
  }

  async save(
    entry: Omit<SavedSim, 'credentials' | 'savedAt'>,
    credentials: { key: string; secret: string },
  ): Promise<void> {
    const vault = this.requireVault();
    if (this.#unreadable)
      throw new ServiceError(
        'conflict',
        `${this.#unreadable} — fix or remove that file first; Keyport does not overwrite it`,
      );
    const ciphertext = vault.encrypt(JSON.stringify(credentials)).toString('base64');
    this.#entries.set(entry.id, { ...entry, savedAt: new Date().toISOString(), credentials: ciphertext });
    await this.#write();
  }

  async remove(id: string): Promise<void> {
    if (!this.#entries.delete(id) || this.#unreadable) return;
    await this.#write();
  }

  async #write(): Promise<void> {
    const data: FileShape = {
      version: 1,
      note: 'Keyport simulator credentials. Each key/secret is encrypted with the OS keychain (Electron safeStorage); this file is useless elsewhere.',
      sims: [...this.#entries.values()],
    };
    await writeFileAtomic(this.file, JSON.stringify(data, null, 2) + '\n', { mode: 0o600 });
  }
}

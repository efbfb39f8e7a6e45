// Where `keyport simulate --device` gets the access secret (issue 12): from a secrets file that
// `keys create --save` wrote (--secret-file F, any of its formats), from stdin (--secret -), from
// the KEYPORT_SECRET environment variable, or — discouraged — from the command line
// (--secret S), which other local users can read in `ps` for the whole run, so it warns.
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { parseSecrets } from '../core/export-formats.ts';
import type { CliIo } from './io.ts';
import { UsageError } from './usage.ts';

export const SECRET_ENV = 'KEYPORT_SECRET';

export interface SecretFlags {
  secret?: string;
  secretFile?: string;
}

export interface Credentials {
  secret: string;
  /** From a secrets file, when it names them. */
  key?: string;
  deviceId?: string;
  /** Which source the secret came from, for messages (never the secret itself). */
  from: string;
}

const WARNING =
  `keyport: warning: --secret on the command line is visible to other users (ps, /proc) and in shell ` +
  `history; prefer --secret-file FILE, ${SECRET_ENV}=… or --secret - (stdin)\n`;

/** All of stdin as text (for `--secret -`). */
async function readAll(stream: Readable): Promise<string> {
  let text = '';
  stream.setEncoding('utf8');
  for await (const chunk of stream) text += chunk as string;
  return text;
}

function fromFile(file: string): Credentials {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--secret-file ${file}: ${(err as Error).message}`);
  }
  try {
    const parsed = parseSecrets(text);
    return { ...parsed, from: file };
  } catch (err) {
    throw new UsageError(
      `--secret-file ${file}: ${(err as Error).message} (expected a file written by keys create --save)`,
    );
  }
}

/** The secret and where it came from; undefined when no source gave one. */
export async function readSecret(flags: SecretFlags, io: CliIo): Promise<Credentials | undefined> {
  if (flags.secret !== undefined && flags.secretFile !== undefined)
    throw new UsageError('--secret and --secret-file cannot be combined');
  if (flags.secretFile !== undefined) return fromFile(flags.secretFile);
  if (flags.secret === '-') {
    if ((io.stdin as { isTTY?: boolean }).isTTY)
      io.stderr.write('keyport: reading the access secret from stdin (end with Ctrl-D)\n');
    const secret = (await readAll(io.stdin)).trim();
    if (!secret) throw new UsageError('--secret -: stdin was empty (pipe the access secret in)');
    if (/\s/.test(secret)) throw new UsageError('--secret -: stdin must hold only the access secret');
    return { secret, from: 'stdin' };
  }
  if (flags.secret !== undefined) {
    if (!flags.secret) throw new UsageError('--secret needs a value');
    io.stderr.write(WARNING);
    return { secret: flags.secret, from: '--secret' };
  }
  const env = io.env[SECRET_ENV];
  if (env !== undefined && env.trim()) return { secret: env.trim(), from: SECRET_ENV };
  return undefined;
}

// Writing a secrets file: mode 0600, never over an existing file, and opened BEFORE the key is
// created so that a bad path cannot cost the user a secret they will never see again.
import { spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, unlinkSync, writeSync, fchmodSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import {
  EXPORT_FORMATS,
  FORMAT_EXTENSIONS,
  renderSecrets,
  type ExportFormat,
  type SecretBundle,
} from '../core/export-formats.ts';
import { UsageError } from './usage.ts';

export function pickFormat(file: string, format: string | undefined): ExportFormat {
  if (format !== undefined) {
    if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')} (got "${format}")`);
    }
    return format as ExportFormat;
  }
  const ext = extname(file).toLowerCase();
  const found = EXPORT_FORMATS.find((f) => FORMAT_EXTENSIONS[f] === ext && f !== 'arduino');
  if (!found)
    throw new UsageError(
      `cannot tell the format of "${file}" from its extension; add --format ${EXPORT_FORMATS.join('|')}`,
    );
  return found;
}

export interface PendingSecretsFile {
  write(bundles: SecretBundle[]): void;
  abandon(): void;
}

export function openSecretsFile(file: string, format: ExportFormat): PendingSecretsFile {
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EEXIST' ? 'the file already exists (Keyport never overwrites a secrets file)' : (err as Error).message;
    throw new UsageError(`--save ${file}: ${why}`);
  }
  fchmodSync(fd, 0o600);
  return {
    write(bundles) {
      try {
        writeSync(fd, renderSecrets(format, bundles));
      } finally {
        closeSync(fd);
      }
    },
    abandon() {
      closeSync(fd);
      unlinkSync(file);
    },
  };
}

/** The git working tree holding `file`'s directory, if any (a `.git` directory or file above it). */
function gitRoot(file: string): string | undefined {
  let dir = dirname(resolve(file));
  for (;;) {
    if (existsSync(join(dir, '.git'))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/**
 * Why a secrets file at `file` could end up in a commit: it lies in a git working tree and
 * `git check-ignore` does not cover it (or git cannot say). Null when it is outside any working
 * tree or ignored. A warning, not a refusal: the user may mean it (a private repository).
 */
export function gitExposure(file: string): string | null {
  const root = gitRoot(file);
  if (root === undefined) return null;
  const r = spawnSync('git', ['check-ignore', '-q', '--', resolve(file)], { cwd: root, stdio: 'ignore' });
  if (r.status === 0) return null; // ignored
  const where = `${file} is inside the git working tree ${root}`;
  const fix = 'save secrets outside it (e.g. ~/.keyport-secrets/) or add the file to .gitignore';
  if (r.status === 1) return `${where} and not covered by .gitignore: a commit would publish the secret; ${fix}`;
  return `${where} and git could not say whether it is ignored (${r.error?.message ?? `exit ${r.status}`}); ${fix}`;
}

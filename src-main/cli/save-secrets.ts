// Writing a secrets file: mode 0600, never over an existing file, and opened BEFORE the key is
// created so that a bad path cannot cost the user a secret they will never see again.
import { closeSync, constants, openSync, unlinkSync, writeSync, fchmodSync } from 'node:fs';
import { extname } from 'node:path';
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

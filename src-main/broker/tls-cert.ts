// The certificate for the MQTT-over-TLS listener (docs/design.md §1): either the user's own files
// (--tls-cert / --tls-key) or a self-signed one made on first run under <dataDir>/tls and reused
// afterwards. Every problem becomes an Error naming the file and what is wrong with it.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { generate } from 'selfsigned';
import { writeFileAtomic } from '../shared/atomic-write.ts';

export interface CertificateFiles {
  certFile: string;
  keyFile: string;
}

export interface LoadedCertificate extends CertificateFiles {
  /** PEM text of the certificate (chain). */
  cert: string;
  /** PEM text of the private key. */
  key: string;
  /** SHA-256 fingerprint, colon-separated upper-case hex (as `openssl x509 -fingerprint -sha256`). */
  fingerprint: string;
  /** True when this call generated the certificate (first run). */
  generated: boolean;
}

/** Validity of the generated certificate. */
const GENERATED_VALIDITY_YEARS = 10;

/**
 * Loads the user's certificate and key (`custom`), or the generated pair in `<dataDir>/tls`,
 * generating a self-signed one for localhost / 127.0.0.1 / ::1 when that pair does not exist yet.
 */
export async function loadOrCreateCertificate(dataDir: string, custom?: CertificateFiles): Promise<LoadedCertificate> {
  if (custom) {
    const cert = await readPem(custom.certFile, `--tls-cert ${custom.certFile}`);
    const key = await readPem(custom.keyFile, `--tls-key ${custom.keyFile}`);
    const fingerprint = validatePair(cert, key, `--tls-cert ${custom.certFile}`, `--tls-key ${custom.keyFile}`);
    return { cert, key, certFile: custom.certFile, keyFile: custom.keyFile, fingerprint, generated: false };
  }

  const dir = join(dataDir, 'tls');
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const [cert, key] = await Promise.all([readIfExists(certFile), readIfExists(keyFile)]);
  if (cert !== undefined && key !== undefined) {
    // An existing but broken pair is reported, never silently replaced (docs/design.md §11).
    const fingerprint = validatePair(cert, key, certFile, keyFile);
    return { cert, key, certFile, keyFile, fingerprint, generated: false };
  }

  // Neither file, or only half of a pair (a run interrupted while writing): make a fresh pair.
  const pems = await generateSelfSigned();
  const fingerprint = validatePair(pems.cert, pems.key, 'generated certificate', 'generated key');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  // Key first, certificate last: a crash in between leaves no certificate, so the next run
  // regenerates instead of loading a mismatched pair.
  await writeFileAtomic(keyFile, pems.key, { mode: 0o600 });
  await writeFileAtomic(certFile, pems.cert, { mode: 0o644 });
  return { cert: pems.cert, key: pems.key, certFile, keyFile, fingerprint, generated: true };
}

async function generateSelfSigned(): Promise<{ cert: string; key: string }> {
  const notBeforeDate = new Date(Date.now() - 60_000); // tolerate small clock differences
  const notAfterDate = new Date(notBeforeDate);
  notAfterDate.setUTCFullYear(notAfterDate.getUTCFullYear() + GENERATED_VALIDITY_YEARS);
  const pems = await generate(
    [
      { name: 'commonName', value: 'localhost' },
      { name: 'organizationName', value: 'Keyport local broker' },
    ],
    {
      keyType: 'rsa',
      keySize: 2048,
      algorithm: 'sha256',
      notBeforeDate,
      notAfterDate,
      extensions: [
        { name: 'basicConstraints', cA: false, critical: true },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'localhost' },
            { type: 7, ip: '127.0.0.1' },
            { type: 7, ip: '::1' },
          ],
        },
      ],
    },
  );
  return { cert: pems.cert, key: pems.private };
}

/** Checks each PEM on its own (so the message names the right file), then the pair together. */
function validatePair(cert: string, key: string, certLabel: string, keyLabel: string): string {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new Error(`${certLabel}: not a valid PEM certificate (${reason(err)})`, { cause: err });
  }
  try {
    createPrivateKey(key);
  } catch (err) {
    throw new Error(`${keyLabel}: not a valid PEM private key (${reason(err)})`, { cause: err });
  }
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    const msg = reason(err);
    if (/key values mismatch|KEY_VALUES_MISMATCH/i.test(msg)) {
      throw new Error(`TLS certificate and key do not match (${certLabel}, ${keyLabel})`, { cause: err });
    }
    throw new Error(`TLS certificate and key rejected (${certLabel}, ${keyLabel}): ${msg}`, { cause: err });
  }
  return x509.fingerprint256;
}

async function readPem(file: string, label: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`${label}: ${fileProblem(err)}`, { cause: err });
  }
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${file}: ${fileProblem(err)}`, { cause: err });
  }
}

function fileProblem(err: unknown): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory, not a file';
    default:
      return `cannot read (${reason(err)})`;
  }
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

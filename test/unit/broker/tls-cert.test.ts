import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateCertificate } from '../../../src-main/broker/tls-cert.ts';
import type { LoadedCertificate } from '../../../src-main/broker/tls-cert.ts';

let dataDir: string;
let first: LoadedCertificate;
let generationMs: number;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'keyport-tls-'));
  const started = performance.now();
  first = await loadOrCreateCertificate(dataDir);
  generationMs = performance.now() - started;
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('loadOrCreateCertificate: generated', () => {
  it('generates a self-signed pair under <dataDir>/tls with private modes', async () => {
    expect(first.generated).toBe(true);
    expect(generationMs).toBeLessThan(10_000); // on the first-run startup path (~0.2 s here)
    expect(first.certFile).toBe(join(dataDir, 'tls', 'cert.pem'));
    expect(first.keyFile).toBe(join(dataDir, 'tls', 'key.pem'));
    expect(await readFile(first.certFile, 'utf8')).toBe(first.cert);
    expect(await readFile(first.keyFile, 'utf8')).toBe(first.key);
    if (process.platform !== 'win32') {
      expect((await stat(join(dataDir, 'tls'))).mode & 0o777).toBe(0o700);
      expect((await stat(first.keyFile)).mode & 0o777).toBe(0o600);
    }
  });

  it('is for localhost, 127.0.0.1 and ::1, RSA 2048 / SHA-256, valid for about 10 years', () => {
    const x509 = new X509Certificate(first.cert);
    expect(x509.subject).toContain('CN=localhost');
    expect(x509.subjectAltName).toContain('DNS:localhost');
    expect(x509.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(x509.subjectAltName).toMatch(/IP Address:(::1|0:0:0:0:0:0:0:1)/);
    expect(x509.checkHost('localhost')).toBe('localhost');
    expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x509.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(x509.verify(x509.publicKey)).toBe(true); // self-signed
    const years = (Date.parse(x509.validTo) - Date.now()) / (365.25 * 24 * 3600 * 1000);
    expect(years).toBeGreaterThan(9.9);
    expect(years).toBeLessThan(10.1);
    expect(first.fingerprint).toBe(x509.fingerprint256);
    expect(first.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it('loads the same pair on the next call', async () => {
    const again = await loadOrCreateCertificate(dataDir);
    expect(again.generated).toBe(false);
    expect(again.cert).toBe(first.cert);
    expect(again.key).toBe(first.key);
    expect(again.fingerprint).toBe(first.fingerprint);
  });

  it('reports a corrupt certificate in <dataDir>/tls instead of replacing it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keyport-tls-'));
    try {
      await mkdir(join(dir, 'tls'));
      const certFile = join(dir, 'tls', 'cert.pem');
      await writeFile(certFile, 'edited by hand\n');
      await writeFile(join(dir, 'tls', 'key.pem'), first.key);
      await expect(loadOrCreateCertificate(dir)).rejects.toThrow(`${certFile}: not a valid PEM certificate`);
      expect(await readFile(certFile, 'utf8')).toBe('edited by hand\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('loadOrCreateCertificate: custom files', () => {
  let customDir: string;
  let certFile: string;
  let keyFile: string;

  beforeAll(async () => {
    customDir = await mkdtemp(join(tmpdir(), 'keyport-tls-custom-'));
    certFile = join(customDir, 'c.pem');
    keyFile = join(customDir, 'k.pem');
    await writeFile(certFile, first.cert);
    await writeFile(keyFile, first.key);
  });
  afterAll(async () => {
    await rm(customDir, { recursive: true, force: true });
  });

  it('loads a valid pair', async () => {
    const loaded = await loadOrCreateCertificate(dataDir, { certFile, keyFile });
    expect(loaded).toMatchObject({ certFile, keyFile, generated: false, fingerprint: first.fingerprint });
    expect(loaded.cert).toBe(first.cert);
  });

  it('names a missing certificate or key file', async () => {
    const missing = join(customDir, 'nope.pem');
    await expect(loadOrCreateCertificate(dataDir, { certFile: missing, keyFile })).rejects.toThrow(
      `--tls-cert ${missing}: no such file`,
    );
    await expect(loadOrCreateCertificate(dataDir, { certFile, keyFile: missing })).rejects.toThrow(
      `--tls-key ${missing}: no such file`,
    );
  });

  it('names a file that is not PEM', async () => {
    const junk = join(customDir, 'junk.pem');
    await writeFile(junk, 'hello\n');
    await expect(loadOrCreateCertificate(dataDir, { certFile: junk, keyFile })).rejects.toThrow(
      `--tls-cert ${junk}: not a valid PEM certificate`,
    );
    await expect(loadOrCreateCertificate(dataDir, { certFile, keyFile: junk })).rejects.toThrow(
      `--tls-key ${junk}: not a valid PEM private key`,
    );
  });

  it('rejects a certificate and key that do not match', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const other = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    const otherKey = join(customDir, 'other-key.pem');
    await writeFile(otherKey, other);
    await expect(loadOrCreateCertificate(dataDir, { certFile, keyFile: otherKey })).rejects.toThrow(
      'TLS certificate and key do not match',
    );
  });
});

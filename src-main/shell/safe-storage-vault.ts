// Electron safeStorage as the simulator's credential vault (docs/design.md §7: saved simulator credentials are
// encrypted with the OS keychain). Takes a getter so nothing touches safeStorage before it is used.
import type { CredentialVault } from '../simulator/credential-store.ts';

export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

export function safeStorageVault(get: () => SafeStorageLike): CredentialVault {
  return {
    available: () => get().isEncryptionAvailable(),
    encrypt: (s) => get().encryptString(s),
    decrypt: (b) => get().decryptString(b),
  };
}

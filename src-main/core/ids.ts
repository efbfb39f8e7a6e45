// Identifiers in Losant's shapes: 24 lowercase hex characters for ids (docs/design.md §2).
import { randomBytes } from 'node:crypto';

export const ID_PATTERN = /^[0-9a-f]{24}$/;

export function newId(): string {
  return randomBytes(12).toString('hex');
}

export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

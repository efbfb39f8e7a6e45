// A ContractError thrown on the calling side of a transport.
import type { ContractError } from '../contract.ts';

export class ApiError extends Error {
  constructor(readonly error: ContractError) {
    super(error.message);
    this.name = 'ApiError';
  }

  /** Errors the caller caused (exit code 2, HTTP 4xx) as opposed to runtime failures. */
  get isInputError(): boolean {
    return ['validation', 'not-found', 'bad-request', 'conflict'].includes(this.error.code);
  }
}

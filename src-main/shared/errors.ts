// Errors that cross every boundary (CLI exit 2, HTTP 4xx, IPC {code, message}).
import type { FieldError } from '../core/types.ts';
import { formatErrors } from '../core/validation.ts';

export type ServiceErrorCode = 'validation' | 'not-found' | 'conflict' | 'unavailable';

export class ServiceError extends Error {
  constructor(
    readonly code: ServiceErrorCode,
    message: string,
    readonly errors: FieldError[] = [],
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

export function validationError(errors: FieldError[]): ServiceError {
  return new ServiceError('validation', formatErrors(errors), errors);
}

export function notFound(what: 'device' | 'access key', id: string): ServiceError {
  return new ServiceError('not-found', `no ${what} with id "${id}"`);
}

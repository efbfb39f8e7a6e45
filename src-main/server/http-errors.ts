// The one error mapper of the HTTP server: every failure on every route (the contract's /rpc,
// the Losant-compatible API, the UI, the bridge upgrade) answers Losant's `{type, message}` with a
// status from ONE table, and never a stack trace. Extend the tables, not the callers.
import { FileWriteError } from '../shared/atomic-write.ts';
import { ServiceError, type ServiceErrorCode } from '../shared/errors.ts';
import { storageMessage } from '../service/dispatch.ts';
import { StoreRecordError } from '../store/store.ts';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export interface MappedError {
  status: number;
  body: { type: string; message: string };
  /** Close the connection after the answer (the client may still be sending a body we refused). */
  close: boolean;
  /** Not the client's fault: log it (the answer says only "internal error"). */
  internal: boolean;
}

/** Service error codes → HTTP (also used for the contract's error codes on /rpc). */
export const ERROR_STATUS: Record<
  ServiceErrorCode | 'bad-request' | 'unauthorized' | 'storage' | 'internal',
  [number, string]
> = {
  validation: [400, 'Validation'],
  'bad-request': [400, 'BadRequest'],
  unauthorized: [401, 'Unauthorized'],
  'not-found': [404, 'NotFound'],
  conflict: [409, 'Conflict'],
  unavailable: [503, 'ServiceUnavailable'],
  storage: [507, 'InsufficientStorage'], // RFC 4918 section 11.5: the change could not be stored
  internal: [500, 'InternalError'],
};

/** Fastify's own errors (body parsing, limits, URLs) → status, type and a message we write. */
const FRAMEWORK: Record<string, { status: number; type: string; message: (err: FrameworkError) => string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    type: 'PayloadTooLarge',
    message: (e) => `request body is larger than ${e.bodyLimit ?? 'the limit of'} bytes`,
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    type: 'BadRequest',
    message: () => 'request body length does not match its Content-Length',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    type: 'UnsupportedMediaType',
    message: () => 'unsupported Content-Type (send application/json)',
  },
  FST_ERR_CTP_INVALID_TYPE: {
    status: 415,
    type: 'UnsupportedMediaType',
    message: () => 'unsupported Content-Type (send application/json)',
  },
  FST_ERR_BAD_URL: {
    status: 404,
    type: 'NotFound',
    message: (e) => `no route for ${e.url ?? 'this path'}: it has a malformed %-escape`,
  },
  FST_ERR_MAX_PARAM_LENGTH: { status: 404, type: 'NotFound', message: () => 'no route: a path segment is too long' },
};

interface FrameworkError {
  code?: string;
  statusCode?: number;
  bodyLimit?: number;
  url?: string;
}

export function mapError(err: unknown): MappedError {
  const ok = (status: number, type: string, message: string, close = false): MappedError => ({
    status,
    body: { type, message },
    close,
    internal: false,
  });
  if (err instanceof HttpError) return ok(err.status, err.type, err.message, err.status === 413);
  if (err instanceof ServiceError) {
    const [status, type] = ERROR_STATUS[err.code];
    return ok(status, type, err.message);
  }
  if (err instanceof StoreRecordError) return ok(400, 'Validation', err.problem);
  if (err instanceof FileWriteError) return ok(507, 'InsufficientStorage', storageMessage(err));
  const fe = err as FrameworkError;
  const known = typeof fe?.code === 'string' ? FRAMEWORK[fe.code] : undefined;
  if (known) return ok(known.status, known.type, known.message(fe), known.status === 413);
  return { status: 500, body: { type: 'InternalError', message: 'internal error' }, close: false, internal: true };
}

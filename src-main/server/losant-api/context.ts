// What every Losant-API endpoint shares: its dependencies, Losant-shaped errors, admin-token and
// application checks, bounded JSON bodies, and ServiceError → HTTP status mapping.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_TRUSTED_PROXIES, parseTrustedProxies, type TrustedProxies } from '../../core/client-address.ts';
import { isId } from '../../core/ids.ts';
import { findPrototypeKey, prototypeKeyMessage } from '../../core/prototype-keys.ts';
import { ServiceError } from '../../shared/errors.ts';
import type { KeyportService } from '../../service/service.ts';
import { StoreRecordError } from '../../store/store.ts';
import { bearerToken, HttpError, tokenMatches } from '../http-util.ts';
import { deriveTokenKey, verifyDeviceToken } from './device-token.ts';

export interface LosantApiDeps {
  service: KeyportService;
  /** The broker: state posted over HTTP is published on it as the platform. */
  broker: { publishAsPlatform(topic: string, payload: string): Promise<void> };
  /** The local admin token management calls must present. */
  adminToken: string;
  /** Peers whose X-Forwarded-For is believed; the SAME list the broker uses. Default: loopback. */
  trustedProxies?: TrustedProxies | readonly string[];
  /** The clock for device tokens and state times (tests pass their own). */
  now?: () => Date;
}

export interface ApiContext {
  service: KeyportService;
  broker: LosantApiDeps['broker'];
  adminToken: string;
  trusted: TrustedProxies;
  tokenKey: Buffer;
  nowMs(): number;
}

export function makeContext(deps: LosantApiDeps): ApiContext {
  const tp = deps.trustedProxies ?? DEFAULT_TRUSTED_PROXIES;
  const trusted = Array.isArray(tp) ? parseTrustedProxies(tp) : (tp as TrustedProxies);
  const now = deps.now ?? (() => new Date());
  return {
    service: deps.service,
    broker: deps.broker,
    adminToken: deps.adminToken,
    trusted,
    tokenKey: deriveTokenKey(deps.service.pepper),
    nowMs: () => now().getTime(),
  };
}

/** Largest body the management and state endpoints read (1 MiB); /auth/device reads far less. */
export const API_BODY_LIMIT = 1024 * 1024;
export const AUTH_BODY_LIMIT = 16 * 1024;

export const badRequest = (message: string): HttpError => new HttpError(400, 'BadRequest', message);
export const validation = (message: string): HttpError => new HttpError(400, 'Validation', message);
export const unauthorized = (message: string): HttpError => new HttpError(401, 'Unauthorized', message);
export const forbidden = (message: string): HttpError => new HttpError(403, 'Forbidden', message);
export const notFound = (what: string): HttpError => new HttpError(404, 'NotFound', `${what} was not found`);

export const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A JSON body; an empty body reads as {} (losant-rest sends `{}` when there is nothing to say).
 * Over the limit → 413 with `Connection: close`: the rest of the upload is drained and dropped
 * (never buffered), and the client will not reuse a connection it was still writing on.
 */
export async function readBody(req: IncomingMessage, res: ServerResponse, limit = API_BODY_LIMIT): Promise<unknown> {
  const tooLarge = (): HttpError => {
    if (!res.headersSent) res.setHeader('connection', 'close');
    return new HttpError(413, 'PayloadTooLarge', `request body is larger than ${limit} bytes`);
  };
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();
  const buf = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!over) reject(err);
    });
  });
  const text = buf.toString('utf8');
  if (text.trim() === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch (err) {
    throw badRequest(`request body is not valid JSON: ${(err as Error).message}`);
  }
  const proto = findPrototypeKey(body, 'body');
  if (proto !== null) throw badRequest(prototypeKeyMessage(proto));
  return body;
}

/** Management endpoints: the local admin token. A valid DEVICE token is authenticated but not allowed. */
export function requireAdmin(ctx: ApiContext, req: IncomingMessage): void {
  const token = bearerToken(req);
  if (tokenMatches(token, ctx.adminToken)) return;
  if (token !== undefined && verifyDeviceToken(ctx.tokenKey, token, ctx.nowMs()).ok) {
    throw forbidden(
      'device tokens cannot manage keys or devices; use the admin token (admin-token file in the data directory)',
    );
  }
  throw unauthorized(
    token === undefined
      ? 'missing admin token (Authorization: Bearer <token from the admin-token file in the data directory>)'
      : 'wrong admin token (use the one in the admin-token file of the data directory)',
  );
}

export function isAdmin(ctx: ApiContext, req: IncomingMessage): boolean {
  return tokenMatches(bearerToken(req), ctx.adminToken);
}

export function requireApp(ctx: ApiContext, appId: string): void {
  if (appId !== ctx.service.applicationId) throw notFound('Application');
}

/** A path id that is not a 24-hex id cannot name anything: 404 like any unknown id. */
export function requireIdShape(id: string, what: string): void {
  if (!isId(id)) throw notFound(what);
}

/** Runs a service call, turning its errors into Losant-shaped HTTP errors. */
export async function serviceCall<T>(fn: () => T | Promise<T>, what: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ServiceError) {
      switch (err.code) {
        case 'validation':
          throw validation(err.message);
        case 'not-found':
          throw notFound(what);
        case 'conflict':
          throw new HttpError(409, 'Conflict', err.message);
        case 'unavailable':
          throw new HttpError(503, 'ServiceUnavailable', err.message);
      }
    }
    if (err instanceof StoreRecordError) throw validation(err.problem);
    throw err;
  }
}

/** Unknown body fields get a 400 naming them (Losant's schemas say additionalProperties: false). */
export function rejectUnknownFields(body: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(body)) {
    if (!allowed.includes(k)) throw validation(`${k}: unknown field in ${what} (allowed: ${allowed.join(', ')})`);
  }
}

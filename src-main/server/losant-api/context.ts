// What every Losant-API endpoint shares: its dependencies, Losant-shaped errors, admin-token and
// application checks, and the request body (parsed and bounded by the server's one body parser).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_TRUSTED_PROXIES, parseTrustedProxies, type TrustedProxies } from '../../core/client-address.ts';
import { isId } from '../../core/ids.ts';
import { ServiceError } from '../../shared/errors.ts';
import type { ApiPorts, PortSource } from '../../shared/ports.ts';
import { HttpError } from '../http-errors.ts';
import { bearerToken, tokenMatches } from '../http-util.ts';
import { verifyDeviceToken } from './device-token.ts';
import type { Static, TSchema } from '@sinclair/typebox';
import { parseWith } from '../../core/schemas/schema-errors.ts';

export interface LosantApiDeps {
  /** Builds the API's ports (shared/ports.ts) with its trusted proxies: KeyportService.ports. */
  service: PortSource;
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
  ports: ApiPorts;
  broker: LosantApiDeps['broker'];
  adminToken: string;
  trusted: TrustedProxies;
  nowMs(): number;
}

export function makeContext(deps: LosantApiDeps): ApiContext {
  const tp = deps.trustedProxies ?? DEFAULT_TRUSTED_PROXIES;
  const trusted = Array.isArray(tp) ? parseTrustedProxies(tp) : (tp as TrustedProxies);
  const now = deps.now ?? (() => new Date());
  return {
    ports: deps.service.ports({ trustedProxies: trusted }),
    broker: deps.broker,
    adminToken: deps.adminToken,
    trusted,
    nowMs: () => now().getTime(),
  };
}

/** An endpoint on the application's collections (…/keys, …/devices), as routes.ts calls it. */
export type CollectionEndpoint = (
  ctx: ApiContext,
  req: FastifyRequest,
  res: FastifyReply,
  url: URL,
  appId: string,
) => Promise<void>;
/** An endpoint on one record (…/keys/{id}, …/devices/{id}, …/state, …/command). */
export type RecordEndpoint = (
  ctx: ApiContext,
  req: FastifyRequest,
  res: FastifyReply,
  url: URL,
  appId: string,
  id: string,
) => Promise<void>;

/** /auth/device reads far less than the server's 1 MiB. */
export const AUTH_BODY_LIMIT = 16 * 1024;

export const badRequest = (message: string): HttpError => new HttpError(400, 'BadRequest', message);
export const validation = (message: string): HttpError => new HttpError(400, 'Validation', message);
export const unauthorized = (message: string): HttpError => new HttpError(401, 'Unauthorized', message);
export const forbidden = (message: string): HttpError => new HttpError(403, 'Forbidden', message);
export const notFound = (what: string): HttpError => new HttpError(404, 'NotFound', `${what} was not found`);

/** The request's JSON body; no body reads as {} (losant-rest sends nothing when there is nothing to say). */
export function bodyOf(req: FastifyRequest): unknown {
  return req.body === undefined ? {} : req.body;
}

/** The request's JSON body read through `schema`, or a 400 Validation naming every problem. */
export function bodyWith<T extends TSchema>(schema: T, req: FastifyRequest): Static<T> {
  const parsed = parseWith(schema, bodyOf(req));
  if (!parsed.ok) throw validation(parsed.errors.map((e) => e.message).join('; '));
  return parsed.value;
}

/** Management endpoints: the local admin token. A valid DEVICE token is authenticated but not allowed. */
export async function requireAdmin(ctx: ApiContext, req: FastifyRequest): Promise<void> {
  const token = bearerToken(req.headers);
  if (tokenMatches(token, ctx.adminToken)) return;
  if (token !== undefined && (await verifyDeviceToken(ctx.ports.tokenKey, token, ctx.nowMs())).ok) {
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

export function isAdmin(ctx: ApiContext, req: FastifyRequest): boolean {
  return tokenMatches(bearerToken(req.headers), ctx.adminToken);
}

export function requireApp(ctx: ApiContext, appId: string): void {
  if (appId !== ctx.ports.applicationId) throw notFound('Application');
}

/** A path id that is not a 24-hex id cannot name anything: 404 like any unknown id. */
export function requireIdShape(id: string, what: string): void {
  if (!isId(id)) throw notFound(what);
}

/** Management endpoints: the admin token, and the application in the path is this one. */
export async function requireManager(ctx: ApiContext, req: FastifyRequest, appId: string): Promise<void> {
  await requireAdmin(ctx, req);
  requireApp(ctx, appId);
}

/** A management call on one record: requireManager, then a path id that can name it (404 otherwise). */
export async function requireManagedId(
  ctx: ApiContext,
  req: FastifyRequest,
  appId: string,
  id: string,
  what: string,
): Promise<void> {
  await requireManager(ctx, req, appId);
  requireIdShape(id, what);
}

/** Runs a service call; "not found" names the API's resource, every other error goes to the server's mapper. */
export async function serviceCall<T>(fn: () => T | Promise<T>, what: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ServiceError && err.code === 'not-found') throw notFound(what);
    throw err;
  }
}

/** Unknown body fields get a 400 naming them (Losant's schemas say additionalProperties: false). */
export function rejectUnknownFields(body: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(body)) {
    if (!allowed.includes(k)) throw validation(`${k}: unknown field in ${what} (allowed: ${allowed.join(', ')})`);
  }
}

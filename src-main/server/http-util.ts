// Small HTTP helpers: one JSON body parser, JSON replies, bearer tokens compared in constant time.
import { findPrototypeKey, prototypeKeyMessage } from '../core/prototype-keys.ts';
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyReply } from 'fastify';
import { HttpError } from './http-errors.ts';

/** The largest body any route reads (1 MiB); /auth/device sets its own, smaller limit. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The ONE body reader of the server (every route, every content type; /auth/device refuses
 * non-JSON types before this runs). An empty body is "no body" (undefined); the Losant API reads
 * that as {} (losant-rest sends nothing when there is nothing to say), the contract as no request.
 */
export function parseJsonBody(buf: Buffer): unknown {
  const text = buf.toString('utf8');
  if (text.trim() === '') return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch (err) {
    throw new HttpError(400, 'BadRequest', `request body is not valid JSON: ${(err as Error).message}`);
  }
  // __proto__/constructor/prototype keys are refused at every entry point (core/prototype-keys.ts).
  const proto = findPrototypeKey(body, 'body');
  if (proto !== null) throw new HttpError(400, 'BadRequest', prototypeKeyMessage(proto));
  return body;
}

export function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'application/json; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(JSON.stringify(body));
}

export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const h = headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m?.[1];
}

export function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

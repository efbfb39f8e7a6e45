// Where a device request comes from (the socket peer and X-Forwarded-For, read with the broker's
// trusted proxies) and how its decisions are recorded in the feed (transport http).
import type { FastifyRequest } from 'fastify';
import { effectiveClientAddress } from '../../core/client-address.ts';
import type { Decision } from '../../core/types.ts';
import type { NewDecision } from '../../shared/ports.ts';
import type { ApiContext } from './context.ts';

const joinHeader = (h: string | string[] | undefined): string | undefined => (Array.isArray(h) ? h.join(', ') : h);

export interface Origin {
  peer: string;
  forwardedFor?: string | string[];
  /** The effective address for the feed (after trusted X-Forwarded-For), or the peer. */
  address: string;
  xff?: string;
}

export function originOf(ctx: ApiContext, req: FastifyRequest): Origin {
  const peer = req.socket.remoteAddress ?? '';
  const forwardedFor = req.headers['x-forwarded-for'];
  const where = effectiveClientAddress(peer, forwardedFor, ctx.trusted);
  const xff = joinHeader(forwardedFor);
  return {
    peer,
    ...(forwardedFor !== undefined ? { forwardedFor } : {}),
    address: where.ok ? where.address : peer,
    ...(xff ? { xff } : {}),
  };
}

export function recordDecision(
  ctx: ApiContext,
  origin: Origin,
  action: NewDecision['action'],
  d: Decision,
  extra: Partial<NewDecision>,
): void {
  ctx.ports.decisions.record({
    transport: 'http',
    action,
    result: d.allowed ? 'allowed' : 'denied',
    reason: d.reason,
    rule: d.rule,
    sourceAddress: origin.address,
    ...(origin.xff ? { forwardedFor: origin.xff } : {}),
    ...extra,
  });
}

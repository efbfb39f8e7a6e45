// The contract over HTTP for the CLI: POST /rpc/{method} with the admin token. The method name
// is a path parameter the framework decodes (a malformed %-escape is a 404 before this runs).
import type { FastifyInstance } from 'fastify';
import { dispatch, type DispatchContext } from '../service/dispatch.ts';
import { ERROR_STATUS, HttpError } from './http-errors.ts';
import { bearerToken, sendJson, tokenMatches } from './http-util.ts';

export function rpcRoutes(ctx: DispatchContext, adminToken: string): (app: FastifyInstance) => Promise<void> {
  return async (app) => {
    app.all<{ Params: { method: string } }>('/rpc/:method', async (req, reply) => {
      if (req.method !== 'POST') {
        reply.header('allow', 'POST');
        throw new HttpError(405, 'MethodNotAllowed', 'use POST for /rpc/{method}');
      }
      if (!tokenMatches(bearerToken(req.headers), adminToken))
        throw new HttpError(
          401,
          'Unauthorized',
          'missing or wrong admin token (Authorization: Bearer <token from the data directory>)',
        );
      const result = await dispatch(ctx, req.params.method, req.body);
      const status = result.ok ? 200 : (ERROR_STATUS[result.error.code as keyof typeof ERROR_STATUS]?.[0] ?? 500);
      return sendJson(reply, status, result);
    });
  };
}

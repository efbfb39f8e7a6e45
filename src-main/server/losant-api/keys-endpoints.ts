// Access-key management in Losant's shapes (losant-rest applicationKeys / applicationKey):
//   GET|POST /applications/{appId}/keys
//   GET|PATCH|DELETE /applications/{appId}/keys/{applicationKeyId}
// The secret appears once, in the POST response. Device restrictions cannot be patched (400).
import { parseKeyQuery, filterKeys } from '../../core/key-query.ts';
import type { AccessKey } from '../../core/types.ts';
import { sendJson } from '../http-util.ts';
import {
  bodyWith,
  requireManagedId,
  requireManager,
  serviceCall,
  validation,
  type CollectionEndpoint,
  type RecordEndpoint,
} from './context.ts';
import { listPage, parseListRequest, type ListSpec } from './listing.ts';
import { keyToLosant } from './shapes.ts';
import { LosantKeyPatch, LosantKeyPost } from '../../core/schemas/losant-key-bodies.ts';

export const KEY_LIST: ListSpec<AccessKey> = {
  sortFields: {
    creationDate: (k) => k.creationDate,
    lastUpdated: (k) => k.lastUpdated,
    key: (k) => k.key,
    status: (k) => k.status,
    id: (k) => k.id,
    name: (k) => k.name,
  },
  defaultSortField: 'creationDate',
  defaultSortDirection: 'desc',
  filterFields: {
    key: (k) => k.key,
    status: (k) => k.status,
    name: (k) => k.name,
    description: (k) => k.description,
  },
  id: (k) => k.id,
};

export const listKeys: CollectionEndpoint = async (ctx, req, res, url, appId) => {
  await requireManager(ctx, req, appId);
  const { query: rawQuery, params } = parseListRequest(url, KEY_LIST);
  let keys = ctx.ports.keys.list();
  let source: Readonly<Record<string, unknown>> | undefined;
  if (rawQuery !== null) {
    const parsed = parseKeyQuery(rawQuery);
    if (!parsed.ok) throw validation(parsed.error);
    keys = filterKeys(parsed.query, keys);
    source = parsed.query.source;
  }
  const appIdNow = ctx.ports.applicationId;
  const page = listPage(keys, params, KEY_LIST, (k) => keyToLosant(k, appIdNow));
  void sendJson(res, 200, { ...page, applicationId: appIdNow, ...(source ? { query: source } : {}) });
};

export const createKey: CollectionEndpoint = async (ctx, req, res, _url, appId) => {
  await requireManager(ctx, req, appId);
  const body = bodyWith(LosantKeyPost, req);
  const created = await serviceCall(() => ctx.ports.keys.create({ ...body, createdVia: 'api' }), 'Application key');
  void sendJson(res, 201, { ...keyToLosant(created.accessKey, ctx.ports.applicationId), secret: created.secret });
};

export const getKey: RecordEndpoint = async (ctx, req, res, _url, appId, keyId) => {
  await requireManagedId(ctx, req, appId, keyId, 'Application key');
  const key = await serviceCall(() => ctx.ports.keys.get(keyId), 'Application key');
  void sendJson(res, 200, keyToLosant(key, ctx.ports.applicationId));
};

export const patchKey: RecordEndpoint = async (ctx, req, res, _url, appId, keyId) => {
  await requireManagedId(ctx, req, appId, keyId, 'Application key');
  await serviceCall(() => ctx.ports.keys.get(keyId), 'Application key');
  const body = bodyWith(LosantKeyPatch, req);
  const key = await serviceCall(() => ctx.ports.keys.update(keyId, body), 'Application key');
  void sendJson(res, 200, keyToLosant(key, ctx.ports.applicationId));
};

export const deleteKey: RecordEndpoint = async (ctx, req, res, _url, appId, keyId) => {
  await requireManagedId(ctx, req, appId, keyId, 'Application key');
  await serviceCall(() => ctx.ports.keys.remove(keyId), 'Application key');
  void sendJson(res, 200, { success: true });
};

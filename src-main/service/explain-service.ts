// The playground's backend: checks an explain request, resolves the key (id or key) against the
// store as it is now and runs core/explain.ts. Nothing is connected or recorded in the feed.
import { DEFAULT_TRUSTED_PROXIES, parseTrustedProxies, type TrustedProxies } from '../core/client-address.ts';
import { explain, type ExplainEnv, type ExplainRequest, type Explanation } from '../core/explain.ts';
import { isId } from '../core/ids.ts';
import type { FieldError, Transport } from '../core/types.ts';
import { notFound, validationError } from '../shared/errors.ts';
import { lintKey, type LintFinding } from '../core/key-lint.ts';
import { keyMatrix, matrixCsv, type KeyMatrix } from '../core/key-matrix.ts';
import { publicKey } from './keys.ts';
import type { KeyportService } from './service.ts';
import { isPlainObject } from '../core/plain-object.ts';

const TRANSPORTS: readonly Transport[] = ['tcp', 'ws', 'tls'];
/** Bounds one request's work: each subscribe filter walks the device list once. */
export const MAX_EXPLAIN_TOPICS = 100;
const DEFAULT_TRUSTED = parseTrustedProxies(DEFAULT_TRUSTED_PROXIES);

export function explainEnv(service: KeyportService, trustedProxies: TrustedProxies = DEFAULT_TRUSTED): ExplainEnv {
  const store = service.store;
  return {
    pepper: service.pepper,
    trustedProxies,
    getKeyByKey: (k) => store.getKeyByKey(k),
    getDevice: (id) => store.getDevice(id),
    listDevices: () => store.listDevices(),
    devicesTagged: (item) => store.devicesTagged(item),
  };
}

function stringList(req: Record<string, unknown>, field: string, errors: FieldError[]): string[] {
  const v = req[field];
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((t) => typeof t !== 'string')) {
    errors.push({ field, message: `${field} must be an array of strings` });
    return [];
  }
  if (v.length > MAX_EXPLAIN_TOPICS)
    errors.push({ field, message: `${field} has ${v.length} entries; at most ${MAX_EXPLAIN_TOPICS} are allowed` });
  return v as string[];
}

function optString(req: Record<string, unknown>, field: string, errors: FieldError[], max = 4096): string | undefined {
  const v = req[field];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || v.length > max) {
    errors.push({ field, message: `${field} must be a string of at most ${max} characters` });
    return undefined;
  }
  return v;
}

/**
 * Turns the contract's request into an ExplainRequest. `key` is an access key id (24 hex) or the
 * key itself; an id that names no key is not-found (an unknown key TEXT is explained: key.unknown).
 */
export function parseExplainRequest(service: KeyportService, req: unknown): ExplainRequest {
  const r = isPlainObject(req) ? req : {};
  const errors: FieldError[] = [];
  const keyRef = optString(r, 'key', errors, 255);
  const clientId = optString(r, 'deviceId', errors, 255) ?? optString(r, 'clientId', errors, 255);
  if (keyRef === undefined) errors.push({ field: 'key', message: 'key must be an access key id or the key itself' });
  if (clientId === undefined) errors.push({ field: 'deviceId', message: 'deviceId (the MQTT client id) is required' });
  const transport = r.transport ?? 'tcp';
  if (!TRANSPORTS.includes(transport as Transport))
    errors.push({ field: 'transport', message: `transport must be one of ${TRANSPORTS.join(', ')}` });
  const address = optString(r, 'address', errors, 100) ?? '127.0.0.1';
  const forwardedFor = optString(r, 'forwardedFor', errors);
  if (forwardedFor !== undefined && transport !== 'ws')
    errors.push({ field: 'forwardedFor', message: 'forwardedFor applies to the ws transport only (an HTTP header)' });
  // An empty secret is a real input (the client sends an empty password: credentials.missing).
  const secret = r.secret === '' ? '' : optString(r, 'secret', errors, 255);
  const willTopic = optString(r, 'willTopic', errors, 65535);
  const pv = r.protocolVersion;
  if (pv !== undefined && (typeof pv !== 'number' || !Number.isInteger(pv)))
    errors.push({ field: 'protocolVersion', message: 'protocolVersion must be 3, 4 or 5' });
  const publish = stringList(r, 'publish', errors);
  const subscribe = stringList(r, 'subscribe', errors);
  const deliver = stringList(r, 'deliver', errors);
  if (errors.length) throw validationError(errors);
  let key = keyRef as string;
  if (isId(key)) {
    const record = service.store.getKey(key);
    if (!record) throw notFound('access key', key);
    key = record.key;
  }
  return {
    key,
    clientId: clientId as string,
    transport: transport as Transport,
    address,
    publish,
    subscribe,
    deliver,
    ...(secret !== undefined ? { secret } : {}),
    ...(forwardedFor !== undefined ? { forwardedFor } : {}),
    ...(willTopic !== undefined ? { willTopic } : {}),
    ...(typeof pv === 'number' ? { protocolVersion: pv } : {}),
  };
}

/** A request's own trusted-proxy list (the playground's "what if" field), or undefined for the server's. */
function trustedOverride(req: unknown): TrustedProxies | undefined {
  const v = isPlainObject(req) ? req.trustedProxies : undefined;
  if (v === undefined) return undefined;
  const field = 'trustedProxies';
  if (!Array.isArray(v) || v.some((t) => typeof t !== 'string'))
    throw validationError([{ field, message: `${field} must be an array of IP addresses or CIDR blocks` }]);
  if (v.length > MAX_EXPLAIN_TOPICS)
    throw validationError([{ field, message: `${field} has ${v.length} entries; at most ${MAX_EXPLAIN_TOPICS}` }]);
  const list = (v as string[]).map((t) => t.trim()).filter((t) => t !== '');
  try {
    return parseTrustedProxies(list);
  } catch (err) {
    throw validationError([{ field, message: (err as Error).message }]);
  }
}

export function explainAccess(service: KeyportService, req: unknown, trusted?: TrustedProxies): Explanation {
  return explain(parseExplainRequest(service, req), explainEnv(service, trustedOverride(req) ?? trusted));
}

function needKey(service: KeyportService, id: unknown) {
  if (!isId(id))
    throw validationError([{ field: 'id', message: 'id must be an access key id (24 lowercase hex characters)' }]);
  const record = service.store.getKey(id);
  if (!record) throw notFound('access key', id);
  return record;
}

export function keysMatrix(
  service: KeyportService,
  req: unknown,
  trusted?: TrustedProxies,
): KeyMatrix & { csv: string } {
  const r = isPlainObject(req) ? req : {};
  const errors: FieldError[] = [];
  const address = optString(r, 'address', errors, 100) ?? '127.0.0.1';
  if (errors.length) throw validationError(errors);
  const m = keyMatrix(needKey(service, r.id), explainEnv(service, trusted), address);
  return { ...m, csv: matrixCsv(m) };
}

/** Findings for one key (`id`) or for every key. */
export function keysLint(service: KeyportService, req: unknown): Array<{ keyId: string; findings: LintFinding[] }> {
  const r = isPlainObject(req) ? req : {};
  const keys = service.store.listKeys().map(publicKey);
  const env = { devices: service.store.listDevices(), keys, now: new Date() };
  const targets = r.id === undefined ? keys : [publicKey(needKey(service, r.id))];
  return targets.map((k) => ({ keyId: k.id, findings: lintKey(k, env) }));
}

// The quick check of a connection status put by the broker (Store.putConnectionStatus, issue 17
// item 1): it says "valid" only for a status that ConnectionStatusRecord plus the reason-code
// rule certainly accept (validate-data.ts validateConnectionStatus), by plain property reads
// instead of a schema walk. Anything else — a wrong type, an unknown field value — goes to the
// full check, which names the problem. So it never lets through what the file could not hold.
import { REASON_CODES, TRANSPORTS, type ConnectionStatus } from '../core/types.ts';

const REASONS: ReadonlySet<string> = new Set(REASON_CODES);
const TRANSPORT_SET: ReadonlySet<string> = new Set(TRANSPORTS);

const isDate = (v: unknown): boolean => typeof v === 'string' && Number.isFinite(Date.parse(v));
const isCount = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;

/** The fields of a status; a status with any other own field is left to the full check. */
const FIELDS: ReadonlySet<string> = new Set([
  'status',
  'connectedAt',
  'disconnectedAt',
  'disconnectReason',
  'ipAddress',
  'transport',
  'messagesFromClient',
  'messagesToClient',
  'scopeChangedSinceConnect',
]);

/** True only when `s` is certainly a valid, flat ConnectionStatus (a plain object of primitives). */
export function isCleanStatus(s: unknown): s is ConnectionStatus {
  if (typeof s !== 'object' || s === null || Object.getPrototypeOf(s) !== Object.prototype) return false;
  const v = s as Record<string, unknown>;
  for (const k in v) if (!FIELDS.has(k) || v[k] === undefined) return false;
  return (
    (v.status === 'connected' || v.status === 'disconnected') &&
    isCount(v.messagesFromClient) &&
    isCount(v.messagesToClient) &&
    (v.connectedAt === undefined || isDate(v.connectedAt)) &&
    (v.disconnectedAt === undefined || isDate(v.disconnectedAt)) &&
    (v.disconnectReason === undefined || (typeof v.disconnectReason === 'string' && REASONS.has(v.disconnectReason))) &&
    (v.ipAddress === undefined || typeof v.ipAddress === 'string') &&
    (v.transport === undefined || (typeof v.transport === 'string' && TRANSPORT_SET.has(v.transport))) &&
    (v.scopeChangedSinceConnect === undefined || typeof v.scopeChangedSinceConnect === 'boolean')
  );
}

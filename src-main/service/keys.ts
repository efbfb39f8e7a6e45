// Access key management (docs/design.md §2, §3): the secret is returned once at creation and never stored.
import { copyTagMatch } from '../core/device-scope.ts';
import { newId } from '../core/ids.ts';
import { parseKeyQuery, filterKeys } from '../core/key-query.ts';
import { generateKey, generateSecret, makeVerifier } from '../core/secrets.ts';
import { validateKeyInput, validateKeyPatch } from '../core/validation.ts';
import type { AccessKey, AccessKeyRecord, CreatedKey } from '../core/types.ts';

export type { CreatedKey };
import type { Store } from '../store/store.ts';
import { notFound, ServiceError, validationError } from '../shared/errors.ts';
import type { ServiceEvents } from './events.ts';
import type { TypedEmitter } from '../shared/typed-emitter.ts';

/** The public view of a stored key: the verifier never leaves the service. */
export function publicKey(record: AccessKeyRecord): AccessKey {
  const { secretVerifier: _verifier, ...key } = record;
  return key;
}

/** lastUsed is kept to the minute: a use within 60 s of the last recorded one changes nothing. */
const usedRecently = (k: AccessKeyRecord, now: Date): boolean =>
  k.lastUsed !== undefined && now.getTime() - Date.parse(k.lastUsed) < 60_000;

export class KeyService {
  constructor(
    private readonly store: Store,
    private readonly events: TypedEmitter<ServiceEvents>,
    private readonly pepper: Buffer,
    private readonly now: () => Date,
    private readonly log: (line: string) => void = (l) => process.stderr.write(l + '\n'),
  ) {}

  list(query?: unknown): AccessKey[] {
    const all = this.store.listKeys();
    if (query === undefined || query === null || query === '') return all.map(publicKey);
    const parsed = parseKeyQuery(query);
    if (!parsed.ok) throw new ServiceError('validation', parsed.error, [{ field: 'query', message: parsed.error }]);
    return filterKeys(parsed.query, all).map(publicKey);
  }

  get(id: string): AccessKey {
    return publicKey(this.record(id));
  }

  private record(id: string): AccessKeyRecord {
    const k = this.store.getKey(id);
    if (!k) throw notFound('access key', id);
    return k;
  }

  async create(input: unknown): Promise<CreatedKey> {
    const v = validateKeyInput(input);
    if (!v.ok) throw validationError(v.errors);
    const i = v.value;
    const missing = (i.deviceIds ?? []).filter((id) => !this.store.getDevice(id));
    if (missing.length) {
      throw validationError([
        { field: 'deviceIds', message: `deviceIds: no device with id ${missing.map((m) => `"${m}"`).join(', ')}` },
      ]);
    }
    const secret = generateSecret();
    const at = this.now().toISOString();
    const record: AccessKeyRecord = {
      id: newId(),
      key: generateKey(),
      ...(i.name !== undefined ? { name: i.name } : {}),
      ...(i.description !== undefined ? { description: i.description } : {}),
      status: i.status ?? 'active',
      ...(i.deviceIds?.length ? { deviceIds: [...i.deviceIds] } : {}),
      ...(i.deviceTags?.length ? { deviceTags: i.deviceTags.map(copyTagMatch) } : {}),
      addressFilterType: i.addressFilterType ?? 'all',
      addresses: (i.addresses ?? []).map((a) => a.trim()),
      filterType: i.filterType ?? 'none',
      pubTopics: [...(i.pubTopics ?? [])],
      subTopics: [...(i.subTopics ?? [])],
      creationDate: at,
      lastUpdated: at,
      createdVia: i.createdVia ?? 'api',
      secretVerifier: makeVerifier(secret, this.pepper),
    };
    await this.store.putKey(record);
    const accessKey = publicKey(record);
    this.events.emit('key.created', accessKey);
    return { accessKey, secret };
  }

  async update(id: string, patch: unknown): Promise<AccessKey> {
    const current = this.record(id);
    const v = validateKeyPatch(patch, current);
    if (!v.ok) throw validationError(v.errors);
    const p = v.value;
    // lastUpdated is the key's revision (device tokens carry it): strictly later on every edit,
    // even two edits within one millisecond, so "switched off and on again" is always seen.
    const at = Math.max(this.now().getTime(), Date.parse(current.lastUpdated) + 1);
    const next: AccessKeyRecord = { ...current, lastUpdated: new Date(at).toISOString() };
    if (p.name === null) delete next.name;
    else if (p.name !== undefined) next.name = p.name;
    if (p.description !== undefined) next.description = p.description;
    if (p.status !== undefined) next.status = p.status;
    if (p.filterType !== undefined) next.filterType = p.filterType;
    if (p.pubTopics !== undefined) next.pubTopics = [...p.pubTopics];
    if (p.subTopics !== undefined) next.subTopics = [...p.subTopics];
    if (p.addressFilterType !== undefined) {
      next.addressFilterType = p.addressFilterType;
      if (p.addressFilterType === 'all' && p.addresses === undefined) next.addresses = [];
    }
    if (p.addresses !== undefined) next.addresses = p.addresses.map((a) => a.trim());
    await this.store.putKey(next);
    const after = publicKey(next);
    this.events.emit('key.updated', { before: publicKey(current), after });
    return after;
  }

  /**
   * Records a successful use (throttled to one update a minute per key). Bookkeeping, so a lazy
   * put (see PutOptions): visible and announced at once, written with the next store write.
   */
  async touch(id: string): Promise<void> {
    const k = this.store.getKey(id);
    if (!k) return;
    const now = this.now();
    if (usedRecently(k, now)) return;
    const durable = this.store.putLastUsed(id, now.toISOString());
    if (durable === false) return; // deleted meanwhile
    // putLastUsed changed memory synchronously (or threw, changing nothing).
    this.events.emit('key.updated', { before: publicKey(k), after: publicKey(this.store.getKey(id)!) });
    await durable;
  }

  /**
   * touch() without waiting for the disk: for request paths (POST /auth/device) that must never
   * wait on bookkeeping. The change is in memory at once; its lazy write shares the next store
   * write (within LAZY_WRITE_MS) and is flushed by store.close(), so a clean shutdown keeps it.
   * A write that fails is logged here, not dropped silently.
   */
  recordUse(id: string): void {
    // The throttle first, synchronously: a key used in the last minute (most CONNECTs) costs no
    // promise at all.
    const k = this.store.getKey(id);
    if (!k || usedRecently(k, this.now())) return;
    this.touch(id).catch((e: unknown) =>
      this.log(`keyport: could not record the use of access key ${id}: ${e instanceof Error ? e.message : String(e)}`),
    );
  }

  async remove(id: string): Promise<AccessKey> {
    const k = publicKey(this.record(id));
    await this.store.deleteKey(id);
    this.events.emit('key.deleted', k);
    return k;
  }
}

// The one access-control module (issue 11 item 1): it evaluates an MQTT CONNECT and POST
// /auth/device with the same checks (core/connect.ts, docs/design.md §4), records each decision,
// re-checks a device token at every use and makes live sessions follow key and device changes,
// both by the one rule of service/access-rule.ts (docs/design.md §4a). The broker and the HTTP
// API reach it only as the AuthPort of shared/ports.ts.
import type { TrustedProxies } from '../core/client-address.ts';
import { evaluateConnect, type ConnectEnv, type ConnectOutcome, type ConnectRequest } from '../core/connect.ts';
import type { DecisionEvent } from '../core/decision-event.ts';
import { resolveScope, type DeviceScope } from '../core/device-scope.ts';
import type { SessionView, TopicRules } from '../core/topic-access.ts';
import type { AccessKeyRecord, ConnectionStatus, Device } from '../core/types.ts';
import type {
  Authenticated,
  AuthPort,
  DecisionSink,
  SessionControl,
  SessionHandle,
  TokenPurpose,
  TokenUse,
  TokenVerdict,
} from '../shared/ports.ts';
import type { TypedEmitter } from '../shared/typed-emitter.ts';
import type { Store } from '../store/store.ts';
import { checkCredentialUse, sessionDeviceReaction, sessionKeyReaction, tokenAction } from './access-rule.ts';
import type { ServiceEvents } from './events.ts';

export interface AccessControlDeps {
  store: Pick<Store, 'getKey' | 'getKeyByKey' | 'getDevice' | 'listDevices' | 'devicesTagged'>;
  pepper: Buffer;
  trustedProxies: TrustedProxies;
  events: Pick<TypedEmitter<ServiceEvents>, 'on'>;
  decisions: DecisionSink;
  /** Marks a key used without waiting for the disk (KeyService.recordUse logs a failed write). */
  keys: { recordUse(id: string): void };
  devices: { setConnectionStatus(id: string, status: ConnectionStatus): Promise<unknown> };
  log: (line: string) => void;
}

const NO_RULES: TopicRules = { filterType: 'none', pubTopics: [], subTopics: [] };

const joinHeader = (h: string | string[] | undefined): string | undefined => (Array.isArray(h) ? h.join(', ') : h);

/**
 * A live session as the topic checks see it. A class, not a literal with a getter: one is kept
 * per connection, and an object literal with an accessor is a ~450-byte dictionary-mode object
 * (issue 17 item 4); here the getter and getDevice live on the prototype.
 */
class LiveSessionView implements SessionView {
  constructor(
    readonly deviceId: string,
    private readonly keyId: string,
    readonly scope: DeviceScope,
    private readonly store: Pick<Store, 'getKey' | 'getDevice'>,
  ) {}

  /** The key as it is NOW: rule edits apply to the next message. */
  get rules(): TopicRules {
    return this.store.getKey(this.keyId) ?? NO_RULES;
  }

  getDevice(id: string): Device | undefined {
    return this.store.getDevice(id);
  }
}

export class AccessControl implements AuthPort {
  readonly #d: AccessControlDeps;
  /** Lookups for the CONNECT checks, made once (not per CONNECT). */
  readonly #connectEnv: ConnectEnv;

  constructor(deps: AccessControlDeps) {
    this.#d = deps;
    const store = deps.store;
    this.#connectEnv = {
      pepper: deps.pepper,
      trustedProxies: deps.trustedProxies,
      getKeyByKey: (k) => store.getKeyByKey(k),
      getDevice: (id) => store.getDevice(id),
      listDevices: () => store.listDevices(),
      devicesTagged: (item) => store.devicesTagged(item),
      scopeOf: (key) => this.#scopeOf(key),
    };
  }

  /**
   * Scopes of keys restricted by device ids only (or not at all), one per key revision: such a
   * scope depends on nothing but the key record, which the store replaces on every change of the
   * key, so a changed key is a new entry (issue 17 item 1). A tag-scoped key's scope is resolved at
   * each CONNECT from the tag index (lookups, not a scan), so a device's tag change is seen at once.
   */
  readonly #scopes = new WeakMap<AccessKeyRecord, DeviceScope>();

  #scopeOf(key: AccessKeyRecord): DeviceScope {
    const tagged = this.#connectEnv.devicesTagged;
    if (key.deviceTags !== undefined && key.deviceTags.length > 0) return resolveScope(key, tagged);
    let scope = this.#scopes.get(key);
    if (scope === undefined) this.#scopes.set(key, (scope = resolveScope(key, tagged)));
    return scope;
  }

  authenticate(req: ConnectRequest, admit?: (o: ConnectOutcome) => ConnectOutcome): Authenticated {
    const evaluated = evaluateConnect(req, this.#connectEnv);
    const outcome = admit ? admit(evaluated) : evaluated;
    const d = outcome.decision;
    const xff = joinHeader(req.forwardedFor);
    const peerToo = outcome.address !== undefined && outcome.address !== req.peerAddress;
    if (req.clientId && outcome.key && !xff && !peerToo) {
      // Nearly every CONNECT: the event in its final shape, every key in one literal (the keys
      // and order record() below gives them), handed to the feed with no copy (issue 17 item 1).
      const e: DecisionEvent = {
        seq: 0,
        time: '',
        transport: req.transport,
        action: req.transport === 'http' ? 'auth' : 'connect',
        result: d.allowed ? 'allowed' : 'denied',
        reason: d.reason,
        rule: d.rule,
        deviceId: req.clientId,
        keyId: outcome.key.id,
        sourceAddress: outcome.address ?? req.peerAddress,
      };
      this.#d.decisions.add(e);
    } else
      this.#d.decisions.record({
        transport: req.transport,
        action: req.transport === 'http' ? 'auth' : 'connect',
        result: d.allowed ? 'allowed' : 'denied',
        reason: d.reason,
        rule: d.rule,
        ...(req.clientId ? { deviceId: req.clientId } : {}),
        ...(outcome.key ? { keyId: outcome.key.id } : {}),
        sourceAddress: outcome.address ?? req.peerAddress,
        ...(xff ? { forwardedFor: xff } : {}),
        // Where X-Forwarded-For named another client, the peer is kept too: replaying needs both.
        ...(peerToo ? { peerAddress: req.peerAddress } : {}),
      });
    const accepted = outcome.returnCode === 0 && outcome.key !== undefined && outcome.device !== undefined;
    if (accepted) this.#d.keys.recordUse(outcome.key!.id);
    return outcome;
  }

  checkToken(use: TokenUse, purpose: TokenPurpose): TokenVerdict {
    const store = this.#d.store;
    const key = store.getKey(use.keyId);
    const check = checkCredentialUse(
      { key, deviceId: use.deviceId, client: use.client, issued: { keyRevision: use.keyRevision } },
      { trustedProxies: this.#d.trustedProxies, getDevice: (id) => store.getDevice(id) },
    );
    if (!check.allowed || !key) {
      const decision = { allowed: false, reason: check.reason, rule: check.rule };
      this.#d.decisions.record({
        transport: 'http',
        action: purpose.action,
        result: 'denied',
        reason: decision.reason,
        rule: decision.rule,
        sourceAddress: purpose.sourceAddress,
        ...(purpose.forwardedFor ? { forwardedFor: purpose.forwardedFor } : {}),
        deviceId: use.deviceId,
        keyId: use.keyId,
        topic: purpose.topic,
      });
      return { allowed: false, decision, reauthenticate: tokenAction(check.reason) === 'unauthorized' };
    }
    // A token's scope is resolved NOW, for this request (docs/design.md §4a).
    const view: SessionView = {
      deviceId: use.deviceId,
      scope: resolveScope(key, (item) => store.devicesTagged(item)),
      rules: key,
      getDevice: (id) => store.getDevice(id),
    };
    return { allowed: true, key, view };
  }

  sessionView(s: { deviceId: string; keyId: string; scope: DeviceScope }): SessionView {
    return new LiveSessionView(s.deviceId, s.keyId, s.scope, this.#d.store);
  }

  watchSessions<S extends SessionHandle>(sessions: SessionControl<S>): () => void {
    const { events, store } = this.#d;
    const offs = [
      events.on('key.updated', ({ before, after }) => {
        const reason = sessionKeyReaction(before, after);
        if (reason) for (const s of sessions.forKey(after.id)) sessions.close(s, reason);
      }),
      events.on('key.deleted', (key) => {
        const reason = sessionKeyReaction(key, undefined);
        if (reason) for (const s of sessions.forKey(key.id)) sessions.close(s, reason);
      }),
      events.on('device.updated', ({ before, after }) => {
        const s = sessions.forDevice(after.id);
        if (!s || s.scopeChangedSinceConnect) return;
        const r = sessionDeviceReaction(store.getKey(s.keyId), before, after);
        if (r && 'mark' in r) this.#markScopeChanged(s, after.id);
      }),
      events.on('device.deleted', (device) => {
        const s = sessions.forDevice(device.id);
        const r = s ? sessionDeviceReaction(store.getKey(s.keyId), device, undefined) : null;
        if (s && r && 'close' in r) sessions.close(s, r.close);
      }),
    ];
    return () => offs.forEach((off) => off());
  }

  #markScopeChanged(s: SessionHandle, deviceId: string): void {
    s.scopeChangedSinceConnect = true;
    const status = this.#d.store.getDevice(deviceId)?.connectionStatus;
    if (!status) return;
    void this.#d.devices
      .setConnectionStatus(deviceId, { ...status, scopeChangedSinceConnect: true })
      .catch((e: unknown) => this.#d.log(`keyport: could not record connection status: ${(e as Error).message}`));
  }

  device(id: string): Device | undefined {
    return this.#d.store.getDevice(id);
  }
}

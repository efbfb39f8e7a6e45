// Host and Origin checks for every HTTP request and the bridge upgrade (issue 12): a page on
// another site, or a DNS-rebinding page whose name now points at 127.0.0.1, must not reach the
// server. Accepted:
//   - Host: one of the names the server listens as, with its port: 127.0.0.1, localhost, [::1],
//     the configured --host, and, when that is a wildcard (0.0.0.0 or ::), this machine's own
//     interface addresses (a device on the LAN addresses the server by IP; a rebinding page
//     always uses a domain name, so an IP literal cannot be a rebinding).
//   - Origin: absent (devices, curl, losant-rest, the CLI send none), or http://<an accepted host>
//     (the UI's own pages). Anything else, including "null", is refused.
import { networkInterfaces } from 'node:os';
import type { IncomingHttpHeaders } from 'node:http';

export interface HostPolicy {
  /** The --host the server listens on. */
  listenHost: string;
  /** The port it listens on (known once listening). */
  port(): number;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

const bracket = (host: string): string => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);

/** The `host[:port]` forms a Host header may take for this server, lower-case. */
export function acceptedHosts(policy: HostPolicy): Set<string> {
  const names = new Set(['127.0.0.1', 'localhost', '[::1]']);
  const h = policy.listenHost.toLowerCase();
  if (WILDCARDS.has(h)) {
    for (const list of Object.values(networkInterfaces())) {
      for (const i of list ?? []) names.add(bracket(i.address.split('%')[0]!.toLowerCase()));
    }
  } else {
    names.add(bracket(h));
  }
  const port = policy.port();
  const out = new Set<string>();
  for (const n of names) {
    out.add(`${n}:${port}`);
    if (port === 80) out.add(n);
  }
  return out;
}

export type GuardResult = { ok: true } | { ok: false; message: string };

const quote = (v: string): string => JSON.stringify(v.length > 100 ? `${v.slice(0, 100)}…` : v);

/** Whether a request may be answered, judged by its Host and Origin headers alone. */
export function checkHostAndOrigin(headers: IncomingHttpHeaders, accepted: ReadonlySet<string>): GuardResult {
  const host = (headers.host ?? '').toLowerCase();
  if (!accepted.has(host)) {
    return {
      ok: false,
      message: `Host ${quote(headers.host ?? '')} is not a name this server answers to (use ${[...accepted].slice(0, 3).join(', ')}…)`,
    };
  }
  const origin = headers.origin;
  if (origin === undefined) return { ok: true };
  const m = /^http:\/\/([^/]+)$/i.exec(origin);
  if (!m || !accepted.has(m[1]!.toLowerCase())) {
    return { ok: false, message: `Origin ${quote(origin)} is not this server; cross-site requests are refused` };
  }
  return { ok: true };
}

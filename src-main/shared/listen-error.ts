// A listener that could not start (MQTT TCP, WebSocket, TLS or HTTP): the message names the
// listener, the port and the flag to change it; `listener` and `code` say the same to code, so
// nobody has to read the message (shell/port-fallback.ts).
/** The four listeners: three for MQTT (broker/listeners.ts) and the HTTP server (server/runtime.ts). */
export type ListenerKind = 'tcp' | 'ws' | 'tls' | 'http';
const LISTENER_NAMES: Record<ListenerKind, string> = {
  tcp: 'MQTT TCP',
  ws: 'MQTT over WebSocket',
  tls: 'MQTT over TLS',
  http: 'HTTP',
};
const PORT_FLAGS: Record<ListenerKind, string> = {
  tcp: '--mqtt-port',
  ws: '--ws-port',
  tls: '--tls-port',
  http: '--http-port',
};

/** Codes for which the fix is another port (what the desktop app's fallback acts on). */
const PORT_CODES: ReadonlySet<string> = new Set(['EADDRINUSE', 'EACCES']);

/** A listener could not start; the message names the listener, the port and the flag to change it. */
export class ListenError extends Error {
  readonly listener: ListenerKind;
  readonly host: string;
  readonly port: number;
  /** errno code such as EADDRINUSE / EACCES, when there is one. */
  readonly code: string | undefined;

  constructor(listener: ListenerKind, host: string, port: number, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    const name = LISTENER_NAMES[listener];
    const flag = PORT_FLAGS[listener];
    const fix = `choose another with ${flag}, or 0 for any free port`;
    let problem: string;
    switch (code) {
      case 'EADDRINUSE':
        problem = `port ${port} on ${host} is already in use (${fix})`;
        break;
      case 'EACCES':
        problem = `permission denied for port ${port} on ${host} (ports below 1024 need elevated privileges; ${fix})`;
        break;
      case 'EADDRNOTAVAIL':
        problem = `address ${host} is not available on this machine (check --host)`;
        break;
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        problem = `host ${host} could not be resolved (check --host)`;
        break;
      case 'ERR_SOCKET_BAD_PORT':
        problem = `${String(port)} is not a valid port (0-65535; set it with ${flag})`;
        break;
      default:
        problem = `could not listen on port ${port} on ${host}: ${cause instanceof Error ? cause.message : String(cause)}`;
    }
    super(`${name} listener: ${problem}`, { cause });
    this.name = 'ListenError';
    this.listener = listener;
    this.host = host;
    this.port = port;
    this.code = code;
  }

  /** True when choosing another port (or port 0) is the fix: the port is taken or privileged. */
  get portUnavailable(): boolean {
    return this.code !== undefined && PORT_CODES.has(this.code);
  }
}

/**
 * Whether `err` is a ListenError, by its name and fields rather than `instanceof`: it also holds
 * for one made by another copy of this module (a test's fresh module registry, a second bundle).
 */
export function isListenError(err: unknown): err is ListenError {
  if (!(err instanceof Error) || err.name !== 'ListenError') return false;
  const e = err as Partial<ListenError>;
  return typeof e.listener === 'string' && e.listener in LISTENER_NAMES && typeof e.portUnavailable === 'boolean';
}

// Turns whatever stopped the Electron download (a network error from fetch, an HTTP status, a
// checksum mismatch from sumchecker, an unzip or disk error) into ONE message a new user can act
// on: what failed, how to retry, and that `npm run serve` gives the same UI in a browser.

/** @type {Record<string, string>} */
const NETWORK_CODES = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  ETIMEDOUT: 'connection timed out',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed by the server',
};

/** A failure we have already put into words (no stack trace is ever shown for it). */
export class ElectronUnavailableError extends Error {
  /**
   * @param {string} what one sentence: what failed
   * @param {string[]} [hints] extra retry advice for this kind of failure
   */
  constructor(what, hints = []) {
    super(what);
    this.name = 'ElectronUnavailableError';
    this.hints = hints;
  }
}

/**
 * The network error under a failed fetch (its `cause`), in words, or null when there is none.
 * @param {any} err what fetch or @electron/get threw (any shape)
 * @returns {{ code: string, text: string, host: string | null } | null}
 */
function networkCause(err) {
  let cause = err?.cause;
  if (cause?.errors?.length && !cause.code) cause = cause.errors[0]; // happy-eyeballs AggregateError
  const code = cause?.code;
  if (!code) return null;
  const host = cause.hostname ?? (cause.address ? `${cause.address}${cause.port ? `:${cause.port}` : ''}` : null);
  return { code, text: NETWORK_CODES[code] ?? cause.message ?? code, host };
}

/**
 * @param {unknown} err what downloadArtifact / the extraction threw
 * @param {{ version: string, url: string | null, checksumSource: string, dir: string }} ctx
 * @returns {ElectronUnavailableError}
 */
export function describeFailure(err, ctx) {
  if (err instanceof ElectronUnavailableError) return err;
  const e = /** @type {any} */ (err);
  const where = ctx.url ? ` (${ctx.url})` : '';
  const name = e?.constructor?.name ?? e?.name;

  if (e?.name === 'HTTPError' && e.response) {
    const hints =
      e.response.status === 404 ? ['check ELECTRON_MIRROR / ELECTRON_CUSTOM_DIR: the mirror has no such file'] : [];
    return new ElectronUnavailableError(
      `HTTP ${e.response.status} ${e.response.statusText || ''}`.trimEnd() + ` for ${e.response.url}`,
      hints,
    );
  }
  const net = networkCause(e);
  if (net) {
    return new ElectronUnavailableError(
      `cannot reach ${net.host ?? 'the download server'}: ${net.text} (${net.code})${where}`,
    );
  }
  if (e?.message === 'fetch failed' && e.cause?.message) {
    // fetch refused before connecting (e.g. a port browsers block, such as 9 or 6000)
    return new ElectronUnavailableError(`the download request failed: ${e.cause.message}${where}`);
  }
  if (name === 'ChecksumMismatchError' || name === 'NoChecksumFoundError') {
    const what =
      name === 'ChecksumMismatchError'
        ? `${e.filename} does not match its SHA-256 checksum in ${ctx.checksumSource}`
        : `${ctx.checksumSource} has no checksum for ${e.filename}`;
    const hints = ctx.checksumSource.includes('checksums.json')
      ? ['a mirror that serves its own builds needs electron_use_remote_checksums=1 (its SHASUMS256.txt)']
      : ['the download was corrupted or the mirror is serving a different file'];
    return new ElectronUnavailableError(`the download failed verification: ${what}; nothing was installed`, hints);
  }
  if (name === 'ChecksumParseError') {
    return new ElectronUnavailableError(`the checksum file ${ctx.checksumSource} could not be read: ${e.message}`);
  }
  if (typeof e?.code === 'string' && typeof e?.path === 'string') {
    return new ElectronUnavailableError(`cannot write ${e.path} (${e.code})`, [
      `make sure ${ctx.dir} and the download cache are writable`,
    ]);
  }
  const msg = e instanceof Error ? e.message : String(e);
  return new ElectronUnavailableError(`${msg}${where}`);
}

/**
 * The one message `npm start` prints when Electron cannot be had (stderr, then exit 1).
 * @param {ElectronUnavailableError} failure
 * @param {string} version
 */
export function failureMessage(failure, version) {
  const lines = [
    `keyport: cannot start the desktop app: the Electron ${version} binary could not be downloaded.`,
    `  What failed: ${failure.message}`,
    ...failure.hints.map((h) => `  Note: ${h}`),
    `  Retry: npm start  (set ELECTRON_MIRROR=https://your-mirror/ to download from a mirror;`,
    `         ELECTRON_CUSTOM_DIR and electron_config_cache are honoured too)`,
    `  Or use the same UI in a browser, no Electron needed: npm run serve`,
  ];
  return lines.join('\n') + '\n';
}

// Progress for the one-time Electron download (about 100 MB): a single redrawn line on a terminal,
// a line at every 10% otherwise (CI logs, pipes), so a slow download never looks like a hang and a
// log never fills with thousands of lines.

const MB = 1024 * 1024;
/** Redraw a terminal line at most this often: fast enough to look live, cheap on a 2-core box. */
const TTY_REDRAW_MS = 100;
/** Without a Content-Length there are no percentages; report every this many bytes instead. */
const UNSIZED_STEP = 10 * MB;

/**
 * `42% (43.1 of 102.3 MB)`, or `43.1 MB` when the size is unknown.
 * @param {number} transferred bytes so far
 * @param {number | null} total bytes in all, or null when the server sent no length
 * @returns {string}
 */
export function formatProgress(transferred, total) {
  const got = (transferred / MB).toFixed(1);
  if (!total) return `${got} MB`;
  const pct = Math.min(100, Math.floor((transferred / total) * 100));
  return `${pct}% (${got} of ${(total / MB).toFixed(1)} MB)`;
}

/**
 * @param {{ write(s: string): unknown, isTTY?: boolean }} stream where progress goes (stdout)
 * @param {string} label e.g. "Downloading electron-v45.5.0-linux-x64.zip"
 * @param {{ isTTY?: boolean, now?: () => number }} [opts]
 * @returns {import('./download-progress.d.mts').ProgressReporter}
 */
export function createProgressReporter(stream, label, opts = {}) {
  const tty = opts.isTTY ?? Boolean(stream.isTTY);
  const now = opts.now ?? Date.now;
  let lastDraw = -Infinity;
  let lastStep = 0;
  /** @type {{ transferred: number, total: number | null }} */
  let last = { transferred: 0, total: null };
  let drawn = false;
  let finished = false;

  const line = () => `${label}: ${formatProgress(last.transferred, last.total)}`;

  return {
    /** @param {{ transferred: number, total: number | null }} p */
    update(p) {
      if (finished) return;
      last = { transferred: p.transferred, total: p.total };
      if (tty) {
        const t = now();
        if (t - lastDraw < TTY_REDRAW_MS) return;
        lastDraw = t;
        stream.write(`\r${line()}\x1b[K`);
        drawn = true;
        return;
      }
      const step = p.total ? Math.floor((p.transferred / p.total) * 10) : Math.floor(p.transferred / UNSIZED_STEP);
      if (step > lastStep) {
        lastStep = step;
        stream.write(`${line()}\n`);
        drawn = step >= 10 && Boolean(p.total);
      }
    },
    /** The last figure, on its own finished line (a terminal line is redrawn one final time). */
    done() {
      if (finished) return;
      finished = true;
      if (tty) stream.write(`\r${line()}\x1b[K\n`);
      else if (!drawn) stream.write(`${line()}\n`);
    },
    /** Ends a half-drawn terminal line so an error message starts on a line of its own. */
    abort() {
      if (finished) return;
      finished = true;
      if (tty && drawn) stream.write('\n');
    },
  };
}

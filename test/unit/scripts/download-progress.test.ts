// The Electron download's progress: one redrawn line on a terminal, a line per 10% in a log.
import { describe, expect, it } from 'vitest';
import { createProgressReporter, formatProgress } from '../../../scripts/download-progress.mjs';

const MB = 1024 * 1024;

function sink(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, write: (s: string) => writes.push(s) } };
}

describe('formatProgress', () => {
  it('shows percent and sizes, or only the size when the server sent no length', () => {
    expect(formatProgress(43 * MB, 100 * MB)).toBe('43% (43.0 of 100.0 MB)');
    expect(formatProgress(100 * MB, 100 * MB)).toBe('100% (100.0 of 100.0 MB)');
    expect(formatProgress(12.5 * MB, null)).toBe('12.5 MB');
  });
});

describe('createProgressReporter', () => {
  it('in a log: one line per 10% step however many chunks arrive, and no repeat at the end', () => {
    const { writes, stream } = sink(false);
    const p = createProgressReporter(stream, 'Downloading e.zip');
    for (let got = 0; got <= 100 * MB; got += MB / 4) p.update({ transferred: got, total: 100 * MB });
    p.done();
    expect(writes).toHaveLength(10);
    expect(writes[0]).toBe('Downloading e.zip: 10% (10.0 of 100.0 MB)\n');
    expect(writes.at(-1)).toBe('Downloading e.zip: 100% (100.0 of 100.0 MB)\n');
  });

  it('in a log without a length: a line every 10 MB and the total at the end', () => {
    const { writes, stream } = sink(false);
    const p = createProgressReporter(stream, 'D');
    for (let got = 0; got <= 25 * MB; got += MB) p.update({ transferred: got, total: null });
    p.done();
    expect(writes).toEqual(['D: 10.0 MB\n', 'D: 20.0 MB\n', 'D: 25.0 MB\n']);
  });

  it('on a terminal: redraws one line (throttled) and ends it with a newline', () => {
    const { writes, stream } = sink(true);
    let t = 0;
    const p = createProgressReporter(stream, 'D', { now: () => t });
    p.update({ transferred: 1 * MB, total: 10 * MB });
    t += 10; // inside the redraw interval: not drawn
    p.update({ transferred: 2 * MB, total: 10 * MB });
    t += 200;
    p.update({ transferred: 5 * MB, total: 10 * MB });
    p.update({ transferred: 10 * MB, total: 10 * MB });
    p.done();
    expect(writes).toEqual([
      '\rD: 10% (1.0 of 10.0 MB)\x1b[K',
      '\rD: 50% (5.0 of 10.0 MB)\x1b[K',
      '\rD: 100% (10.0 of 10.0 MB)\x1b[K\n',
    ]);
  });

  it('abort ends a half-drawn terminal line so the error starts on its own line', () => {
    const { writes, stream } = sink(true);
    const p = createProgressReporter(stream, 'D');
    p.update({ transferred: MB, total: 10 * MB });
    p.abort();
    p.update({ transferred: 2 * MB, total: 10 * MB });
    expect(writes).toEqual(['\rD: 10% (1.0 of 10.0 MB)\x1b[K', '\n']);
  });
});

// The pieces of parent-death detection that run without spawning npm (test/fault/parent-death
// spawns the real thing).
import { describe, expect, it } from 'vitest';
import { parentOf, watchParent } from '../../../src-main/cli/parent-watch.ts';

describe('parent-watch', () => {
  it.runIf(process.platform === 'linux')('parentOf reads a parent pid from /proc', () => {
    expect(parentOf(process.pid)).toBe(process.ppid);
    expect(parentOf(2 ** 31 - 2)).toBeNull(); // no such process
  });

  it('does not fire while the parent lives, and stops cleanly', () => {
    let fired = false;
    const stop = watchParent(() => (fired = true), { pollMs: 1 });
    stop();
    expect(fired).toBe(false);
  });
});

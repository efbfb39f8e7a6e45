// service/decision-log.ts (docs/design.md §8): the feed as rotating JSON lines in the data dir.
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DecisionEvent } from '../../../src-main/core/decision-event.ts';
import {
  DECISION_LOG_FILE,
  DECISION_LOG_ROTATED,
  DecisionLog,
  parseDecisionLine,
} from '../../../src-main/service/decision-log.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keyport-dlog-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const event = (seq: number, extra: Partial<DecisionEvent> = {}): DecisionEvent => ({
  seq,
  time: new Date(1_700_000_000_000 + seq).toISOString(),
  transport: 'ws',
  action: 'connect',
  result: 'denied',
  reason: 'address.denied',
  rule: `not in allowedAddresses ["10.0.0.0/8"] (event ${seq})`,
  deviceId: 'a'.repeat(24),
  sourceAddress: '203.0.113.7',
  forwardedFor: '203.0.113.7, 198.51.100.2',
  ...extra,
});

describe('DecisionLog', () => {
  it('writes every event as its JSON line, in order, across chunks, with a line larger than a chunk among them', async () => {
    const { log } = await DecisionLog.open(dir, 10, { log: () => {} });
    const events: DecisionEvent[] = [];
    for (let i = 1; i <= 3000; i++) {
      // Runs of one session's PUBLISH decisions (the encoder reuses their tail), broken by others.
      const e =
        i === 1500
          ? event(i, { rule: 'x'.repeat(70 * 1024) }) // larger than a 64 KB chunk
          : i % 97 === 0
            ? event(i, { topic: `é/${i}` })
            : event(i, { action: 'publish', result: 'allowed', reason: 'publish.allowed', rule: 'own state topic' });
      events.push(e);
      log.append(e);
      if (i % 1000 === 0) await log.flush();
    }
    await log.close();
    const text = await readFile(join(dir, DECISION_LOG_FILE), 'utf8');
    expect(text).toBe(events.map((e) => JSON.stringify(e) + '\n').join(''));
  });

  it('past maxQueued drops the oldest lines, keeps the newest in order, and says how many it dropped', async () => {
    const said: string[] = [];
    const { log } = await DecisionLog.open(dir, 10, { log: (l) => said.push(l), maxQueued: 600 });
    for (let i = 1; i <= 2000; i++) log.append(event(i));
    await log.close();
    const seqs = (await readFile(join(dir, DECISION_LOG_FILE), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => (parseDecisionLine(l) as DecisionEvent).seq);
    // At most maxQueued wait for a write, plus the lines not yet in a batch (one batch's worth).
    expect(seqs.length).toBeGreaterThan(0);
    expect(seqs.length).toBeLessThanOrEqual(600 + 256);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => 2001 - seqs.length + i));
    expect(said.join('\n')).toContain(`${2000 - seqs.length} decisions were not written`);
  });

  it('reads back what it wrote, oldest first, at most `keep` of the newest', async () => {
    const { log, events } = await DecisionLog.open(dir, 3, { log: () => {} });
    expect(events).toEqual([]);
    for (let i = 1; i <= 5; i++) log.append(event(i));
    await log.close();
    const again = await DecisionLog.open(dir, 3, { log: () => {} });
    expect(again.events).toEqual([event(3), event(4), event(5)]);
    await again.log.close();
    expect((await stat(join(dir, DECISION_LOG_FILE))).mode & 0o777).toBe(0o600);
  });

  it('rotates at maxBytes: never more than two files of maxBytes, the newest kept', async () => {
    const maxBytes = 2048;
    const { log } = await DecisionLog.open(dir, 10_000, { maxBytes, log: () => {} });
    for (let i = 1; i <= 100; i++) {
      log.append(event(i));
      if (i % 7 === 0) await log.flush();
    }
    await log.close();
    const cur = await stat(join(dir, DECISION_LOG_FILE));
    const old = await stat(join(dir, DECISION_LOG_ROTATED));
    expect(cur.size).toBeLessThanOrEqual(maxBytes);
    expect(old.size).toBeLessThanOrEqual(maxBytes);
    const back = await DecisionLog.open(dir, 10_000, { maxBytes, log: () => {} });
    const seqs = back.events.map((e) => e.seq);
    expect(seqs.at(-1)).toBe(100);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b)); // in order across the two files
    expect(seqs.length).toBeLessThan(100); // the oldest went with the rotation
    await back.log.close();
  });

  it('skips a line cut by a crash and lines that are not decisions, saying how many', async () => {
    const good = JSON.stringify(event(1));
    await writeFile(
      join(dir, DECISION_LOG_FILE),
      `${good}\n{"seq":2,"time":"x"}\n${JSON.stringify({ ...event(3), reason: 'made.up' })}\n${good.slice(0, 20)}`,
    );
    const lines: string[] = [];
    const { log, events } = await DecisionLog.open(dir, 100, { log: (l) => lines.push(l) });
    expect(events).toEqual([event(1)]);
    expect(lines.join('\n')).toMatch(/3 lines of .*decisions\.jsonl.* were not decision events; skipped/);
    await log.close();
  });

  it('parseDecisionLine keeps only the known fields', () => {
    const line = JSON.stringify({ ...event(1), secret: 'hunter2', extra: 1 });
    expect(parseDecisionLine(line)).toEqual(event(1));
    expect(parseDecisionLine(JSON.stringify({ ...event(1), topic: 5 }))).toBeNull();
    expect(parseDecisionLine('[]')).toBeNull();
  });

  it('refuses a size below 1024 bytes, naming it', async () => {
    await expect(DecisionLog.open(dir, 10, { maxBytes: 10 })).rejects.toThrow(
      /decision log size .* at least 1024 \(got 10\)/,
    );
  });

  it('what it writes is the event, nothing more', async () => {
    const { log } = await DecisionLog.open(dir, 10, { log: () => {} });
    log.append(event(1));
    await log.close();
    expect(await readFile(join(dir, DECISION_LOG_FILE), 'utf8')).toBe(JSON.stringify(event(1)) + '\n');
  });

  // The file is kept open between writes (one descriptor; issue 17 item 1): what it must still do.
  describe.runIf(existsSync('/proc/self/fd'))('its one descriptor', () => {
    /** This process's descriptors open on `file` (Linux). */
    const fdsOn = (file: string): number =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === file;
        } catch {
          return false; // closed meanwhile (the listing's own descriptor)
        }
      }).length;

    it('stays open across writes, moves to the new file at a rotation, and is closed by close()', async () => {
      const file = join(dir, DECISION_LOG_FILE);
      const { log } = await DecisionLog.open(dir, 10_000, { maxBytes: 2048, log: () => {} });
      log.append(event(1));
      await log.flush();
      expect(fdsOn(file)).toBe(1);
      log.append(event(2));
      await log.flush();
      expect(fdsOn(file)).toBe(1);
      for (let i = 3; i <= 30; i++) {
        log.append(event(i));
        await log.flush();
      }
      expect((await stat(join(dir, DECISION_LOG_ROTATED))).size).toBeGreaterThan(0); // it rotated
      expect(fdsOn(file)).toBe(1);
      expect(fdsOn(join(dir, DECISION_LOG_ROTATED))).toBe(0);
      log.append(event(31));
      await log.close();
      expect(fdsOn(file)).toBe(0);
      // Nothing lost on close: every event is in the two files, in order.
      const back = await DecisionLog.open(dir, 10_000, { maxBytes: 2048, log: () => {} });
      const seqs = back.events.map((e) => e.seq);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => 32 - seqs.length + i));
      await back.log.close();
    });

    it('a file removed under it is created again by the next write, with the lines of that write', async () => {
      const file = join(dir, DECISION_LOG_FILE);
      const { log } = await DecisionLog.open(dir, 10, { log: () => {} });
      log.append(event(1));
      await log.flush();
      await unlink(file);
      log.append(event(2));
      await log.close();
      expect(await readFile(file, 'utf8')).toBe(JSON.stringify(event(2)) + '\n');
    });

    it('a failed write is reported; the writes after it go on, to a file opened afresh', async () => {
      const said: string[] = [];
      const { log } = await DecisionLog.open(dir, 10_000, { maxBytes: 2048, log: (l) => said.push(l) });
      // A directory in the rotated file's place: the rotation's rename fails (EISDIR/ENOTEMPTY).
      await mkdir(join(dir, DECISION_LOG_ROTATED, 'x'), { recursive: true });
      for (let i = 1; i <= 60; i++) {
        log.append(event(i));
        await log.flush();
      }
      // Each try to rotate fails (reported; the writes between them succeed, so each run is told once).
      expect(said.some((l) => l.includes('could not write the decision log'))).toBe(true);
      expect(fdsOn(join(dir, DECISION_LOG_FILE))).toBeLessThanOrEqual(1);
      await rm(join(dir, DECISION_LOG_ROTATED), { recursive: true });
      log.append(event(61));
      await log.close();
      expect(fdsOn(join(dir, DECISION_LOG_FILE))).toBe(0);
      const text = await readFile(join(dir, DECISION_LOG_FILE), 'utf8');
      const rotated = existsSync(join(dir, DECISION_LOG_ROTATED))
        ? await readFile(join(dir, DECISION_LOG_ROTATED), 'utf8')
        : '';
      expect(rotated + text).toContain(JSON.stringify(event(61)) + '\n');
    });
  });
});

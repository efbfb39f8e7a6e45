// A signal that comes early is not lost (src-main/cli/stop-request.ts). A real process that has
// no SIGTERM listener yet is killed outright by the kernel's default action, so `serve` and
// `simulate` must listen before they start anything. In this process the emitter stands in for
// the signals: an emit that finds no listener is the signal that would have killed the process
// (emit() returns false then). Each case emits at the moment that used to find nobody listening:
// the instant the ready line is written, while the runtime starts, while a fleet is being made.
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src-main/cli/main.ts';
import type { CliIo } from '../../src-main/cli/io.ts';
import { tempDir } from '../helpers/cli.ts';
import { startHarness, type Harness } from '../helpers/runtime-harness.ts';

const SERVE = ['serve', '--json', '--mqtt-port', '0', '--ws-port', '0', '--tls-port', '0', '--http-port', '0'];
const cleanups: Array<() => Promise<void>> = [];
afterAll(() => Promise.all(cleanups.map((c) => c())));

async function newDir(): Promise<string> {
  const t = await tempDir('keyport-stop-');
  cleanups.push(t.remove);
  return t.dir;
}

/**
 * A CliIo whose stdout calls `onWrite` with all output so far, and whose signals record whether
 * each emit found a listener (`heard`). A SIGTERM nobody heard is sent again on the next turn of
 * the event loop, until someone does, so a regression fails on `heard[0]` instead of hanging.
 */
function io(dataDir: string, onWrite: (stdout: string, emit: () => void) => void = () => {}) {
  const signals = new EventEmitter();
  const out = { stdout: '', stderr: '', heard: [] as boolean[] };
  const emit = (): void => {
    const heard = signals.emit('SIGTERM');
    out.heard.push(heard);
    if (!heard) setImmediate(emit);
  };
  const cli: CliIo = {
    stdout: {
      write: (t: string) => {
        out.stdout += t;
        onWrite(out.stdout, emit);
        return true;
      },
    },
    stderr: { write: (t: string) => ((out.stderr += t), true) },
    stdin: Readable.from([]),
    env: { KEYPORT_DATA: dataDir },
    signals,
  };
  return { cli, out, emit, signals };
}

describe('serve: a SIGTERM that comes early stops it cleanly', () => {
  it('at the instant the ready line is written: heard, exit 0, the lock released', async () => {
    const dir = await newDir();
    let sent = false;
    const t = io(dir, (stdout, emit) => {
      if (!sent && stdout.includes('\n')) {
        sent = true;
        emit(); // synchronously, inside the write: as a reader that signals the moment it reads the line
      }
    });
    const code = await main(SERVE, t.cli);
    expect(t.out.heard[0], 'the SIGTERM sent on the ready line found no listener').toBe(true);
    expect(code, t.out.stderr).toBe(0);
    expect(JSON.parse(t.out.stdout.split('\n')[0]!)).toHaveProperty('mqtt');
    expect(existsSync(join(dir, 'keyport.lock'))).toBe(false);
    // A clean stop writes the document: the application id survives into keyport.json.
    const ready = JSON.parse(t.out.stdout.split('\n')[0]!) as { applicationId: string };
    const doc = JSON.parse(readFileSync(join(dir, 'keyport.json'), 'utf8')) as { applicationId?: string };
    expect(doc.applicationId).toBe(ready.applicationId);
  });

  it('while the runtime is starting: exit 0, no ready line, one line on stderr, the lock released', async () => {
    const dir = await newDir();
    const t = io(dir);
    const run = main(SERVE, t.cli);
    // Sent on every turn of the event loop until serve listens (see io()): the first one heard
    // arrives while it starts (opening the store, the TLS pair, four listeners: many turns).
    setImmediate(t.emit);
    const code = await run;
    expect(code, t.out.stderr).toBe(0);
    expect(t.out.stdout, 'serve announced itself after it was told to stop').toBe('');
    expect(t.out.stderr).toBe('keyport: SIGTERM during start-up; stopping\n');
    expect(existsSync(join(dir, 'keyport.lock'))).toBe(false);
  });
});

describe('simulate --fleet: a SIGTERM while the fleet is being made', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h?.stop());

  it('is heard: making stops, what was made is removed, exit 0 with a summary', async () => {
    const keysBefore = h.rt.service.keys.list().length;
    let sent = false;
    const t = io(h.dataDir, (stdout, emit) => {
      if (!sent && stdout.includes('"phase":"creating"')) {
        sent = true;
        emit(); // after the first batch of 50, with 250 to go
      }
    });
    // --duration 15: ends a run whose signal was lost; the test then fails on `heard`.
    const args = ['simulate', '--fleet', '300', '--every', '5', '--duration', '15', '--json'];
    const code = await main(args, t.cli);
    expect(t.out.heard[0], 'the SIGTERM sent while making the fleet found no listener').toBe(true);
    expect(code, t.out.stderr).toBe(0);
    const objs = t.out.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const creating = objs.filter((o) => o.type === 'progress' && o.phase === 'creating');
    expect(creating).toHaveLength(1);
    expect(objs.filter((o) => o.type === 'progress' && o.phase === 'connecting')).toEqual([]);
    expect(objs.find((o) => o.type === 'summary')).toMatchObject({ devices: 50, connected: 0 });
    expect(objs.at(-1)).toMatchObject({ type: 'info', removed: 50 });
    expect(h.rt.service.keys.list()).toHaveLength(keysBefore);
    expect(h.rt.service.devices.list().filter((d) => d.name.startsWith('Fleet device'))).toEqual([]);
  });
});

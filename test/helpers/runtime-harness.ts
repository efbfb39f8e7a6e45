// Starts the real backend (lowdb store, aedes broker, TCP/WS/TLS listeners, HTTP) on port 0 in
// a temp data directory, for integration tests. Await events, never sleep.
// test/helpers/broker-harness.ts builds the same service + broker without disk or sockets.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DecisionEvent } from '../../src-main/core/decision-event.ts';
import type { AccessKey, Device } from '../../src-main/core/types.ts';
import { startRuntime, type Runtime, type RuntimeOptions } from '../../src-main/server/runtime.ts';

/** What the MQTT test helpers need of a running backend, on sockets or in memory. */
export interface BackendHarness {
  rt: Pick<Runtime, 'service' | 'broker'>;
  device(input?: Record<string, unknown>): Promise<Device>;
  key(input: Record<string, unknown>): Promise<{ accessKey: AccessKey; secret: string }>;
  /** Resolves with the first decision event (already recorded or future) matching `pred`. */
  decision(pred: (e: DecisionEvent) => boolean, timeoutMs?: number): Promise<DecisionEvent>;
  stop(): Promise<void>;
}

export interface Harness extends BackendHarness {
  rt: Runtime;
  dataDir: string;
  mqttUrl: string;
  wsUrl: string;
  tlsUrl: string;
}

/** `device`, `key` and `decision` over a backend's service (shared by both harnesses). */
export function backendHelpers(service: Runtime['service']): Pick<BackendHarness, 'device' | 'key' | 'decision'> {
  let n = 0;
  return {
    device: (input = {}) => service.devices.create({ name: `device ${++n}`, ...input }),
    key: (input) => service.keys.create(input),
    // 5 s: a decision follows its packet within milliseconds; the bound only names what never came.
    decision(pred, timeoutMs = 5000) {
      const found = service.feed.list().find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          off();
          reject(
            new Error(
              `no matching decision event within ${timeoutMs} ms; last events: ${JSON.stringify(service.feed.list(5))}`,
            ),
          );
        }, timeoutMs);
        const off = service.feed.events.on('decision', (e) => {
          if (!pred(e)) return;
          clearTimeout(timer);
          off();
          resolve(e);
        });
      });
    },
  };
}

export async function startHarness(opts: Partial<RuntimeOptions> = {}): Promise<Harness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'keyport-it-'));
  // Limits off unless a test is about them: suites publish fast and use retain / QoS 2.
  const rt = await startRuntime({
    dataDir,
    mqttPort: 0,
    wsPort: 0,
    tlsPort: 0,
    httpPort: 0,
    log: () => {},
    limits: 'off',
    ...opts,
  });
  return {
    rt,
    dataDir,
    mqttUrl: `mqtt://127.0.0.1:${rt.ports.mqtt}`,
    wsUrl: `ws://127.0.0.1:${rt.ports.ws}/mqtt`,
    tlsUrl: `mqtts://127.0.0.1:${rt.ports.tls}`,
    ...backendHelpers(rt.service),
    async stop() {
      await rt.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

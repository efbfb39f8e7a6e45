// Keyport's own per-PUBLISH work without the sockets (issue 17 item 1): aedes' hooks as Keyport
// sets them — authorizePublish (limits, publish check, decision event and log line, state intake,
// message tap), authorizeForward (the delivery re-check) and published — called directly for a
// connected publisher and subscriber, in turns of BATCH messages (a state report's merge runs on
// the turn's nextTick, as with one socket read). CPU µs per message, R rounds of N, for the state
// topic or a custom topic.
//   node bin/run-ts.mjs bench/micro-publish-path.ts [state|custom] [N] [R] [ALLOC_FILE]
// With ALLOC_FILE: the last round runs under the sampling heap profiler, collected objects
// included, written there (a .heapprofile: what each function allocates per message, garbage too).
// With `node --expose-gc --min-semi-space-size=512 --max-semi-space-size=512` (a young generation
// that holds a round's garbage, so no collection runs in it) it also prints the JS heap bytes
// allocated per message: steady where CPU time on a shared machine is not.
import type { AedesPublishPacket, Client } from 'aedes';
import mqtt from 'mqtt';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { getHeapStatistics } from 'node:v8';
import { processCpuMs, startKeyport } from './lib/brokers.ts';
import type { ConnectFields } from './lib/mqtt-wire.ts';
import { provisionPubSub, STATE_PAYLOAD } from './lib/provision.ts';

const kind = process.argv[2] === 'custom' ? 'custom' : 'state';
const n = Number(process.argv[3] ?? 200_000);
const rounds = Number(process.argv[4] ?? 6);
const allocFile = process.argv[5];
const BATCH = 50;
const keyport = await startKeyport();
const clients: mqtt.MqttClient[] = [];
try {
  const { pub, sub, subState } = await provisionPubSub(keyport.service);
  const connect = (o: ConnectFields) =>
    new Promise<mqtt.MqttClient>((resolve, reject) => {
      const c = mqtt.connect(`mqtt://127.0.0.1:${keyport.port}`, { ...o, reconnectPeriod: 0 });
      clients.push(c);
      c.once('connect', () => resolve(c));
      c.once('error', reject);
    });
  await connect({ clientId: pub.deviceId, username: pub.key, password: pub.secret });
  await connect(subState);
  const aedes = keyport.rt.broker.aedes;
  const byId = (aedes as unknown as { clients: Record<string, Client> }).clients;
  const pc = byId[pub.deviceId] as Client;
  const sc = byId[sub.deviceId] as Client;
  const topic = kind === 'state' ? `losant/${pub.deviceId}/state` : 'bench/pub/data';
  const bytes = Buffer.from(kind === 'state' ? STATE_PAYLOAD : 'x'.repeat(100));
  let failed = 0;
  const done = (err?: Error | null): void => {
    if (err) failed++;
  };
  const results: number[] = [];
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let r = 0; r < rounds; r++) {
    await keyport.service.store.flush();
    gc?.();
    const h0 = getHeapStatistics().used_heap_size;
    const profiled = allocFile !== undefined && r === rounds - 1;
    const inspector = profiled ? new Session() : undefined;
    if (inspector) {
      inspector.connect();
      await inspector.post('HeapProfiler.enable');
      // (The two include* flags are V8's; Node's typings do not list them yet.)
      const sampling = {
        samplingInterval: 128,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      };
      await inspector.post('HeapProfiler.startSampling', sampling);
    }
    const c0 = processCpuMs();
    for (let i = 0; i < n; i += BATCH) {
      for (let j = 0; j < BATCH; j++) {
        // A fresh packet and topic string per message, as the parser makes them.
        const packet = {
          cmd: 'publish',
          brokerId: aedes.id,
          brokerCounter: 0,
          topic: topic.slice(0),
          payload: bytes.subarray(0),
          qos: 0,
          retain: false,
          dup: false,
          messageId: 0,
        } as unknown as AedesPublishPacket;
        aedes.authorizePublish(pc, packet, done);
        aedes.authorizeForward(sc, packet);
        aedes.published(packet, pc, done);
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const us = ((processCpuMs() - c0) * 1000) / n;
    if (inspector && allocFile !== undefined) {
      const { profile } = await inspector.post('HeapProfiler.stopSampling');
      writeFileSync(allocFile, JSON.stringify(profile));
      inspector.disconnect();
    }
    const heap = gc ? `, ${((getHeapStatistics().used_heap_size - h0) / n).toFixed(0)} B allocated/msg` : '';
    results.push(us);
    process.stdout.write(
      `round ${r}: ${kind} ${n} messages, ${us.toFixed(3)} µs CPU/msg${heap}${failed ? ` (${failed} refused)` : ''}\n`,
    );
  }
  const sorted = results.slice(1).sort((a, b) => a - b);
  process.stdout.write(
    `median ${(sorted[sorted.length >> 1] as number).toFixed(3)} µs (min ${(sorted[0] as number).toFixed(3)}, max ${(sorted.at(-1) as number).toFixed(3)}) of rounds 1..${rounds - 1}\n`,
  );
} finally {
  for (const c of clients) c.end(true);
  await keyport.stop();
}

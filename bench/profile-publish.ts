// Profiling aid for the PUBLISH path (issue 17 item 1): one publisher sends N messages per round,
// R rounds, to one subscriber, on the state topic or a custom topic at QoS 0 or 1, with nothing
// else running; run under `node --cpu-prof` and read the profile with bench/lib/cpuprofile-top.ts.
// Usage:
//   node --cpu-prof --cpu-prof-dir=DIR bin/run-ts.mjs bench/profile-publish.ts [state|custom] [0|1] [N] [R] [aedes]
// (with `aedes`: plain aedes relaying the same messages, for a profile to set beside Keyport's).
import { ClientDriver } from './lib/client-driver.ts';
import { asPlain, startKeyport, startPlainAedes } from './lib/brokers.ts';
import { asConnect, provisionPubSub, STATE_PAYLOAD } from './lib/provision.ts';

const kind = process.argv[2] === 'custom' ? 'custom' : 'state';
const qos = process.argv[3] === '1' ? 1 : 0;
const n = Number(process.argv[4] ?? 100_000);
const rounds = Number(process.argv[5] ?? 4);
const plain = process.argv[6] === 'aedes';
const driver = await ClientDriver.start();
const keyport = await startKeyport();
const side = plain ? await startPlainAedes() : keyport;
try {
  const { pub, sub, subState } = await provisionPubSub(keyport.service);
  const topic = kind === 'state' ? `losant/${pub.deviceId}/state` : 'bench/pub/data';
  const fields = plain
    ? {
        pub: asPlain(pub.deviceId),
        sub: asPlain(sub.deviceId),
      }
    : { pub: asConnect(pub), sub: subState };
  for (let r = 0; r < rounds; r++) {
    await side.settle();
    const cpu0 = side.cpuMs();
    const res = await driver.pubsub({
      port: side.port,
      ...fields,
      topic,
      count: n,
      size: 100,
      ...(kind === 'state' ? { payload: STATE_PAYLOAD } : {}),
      qos,
      window: 1000,
      capMs: 60_000,
    });
    const us = ((side.cpuMs() - cpu0) * 1000) / Math.max(1, res.received);
    process.stdout.write(`round ${r}: ${kind} QoS ${qos} ${res.received}/${n}, ${us.toFixed(2)} µs CPU/msg\n`);
  }
} finally {
  driver.close();
  await Promise.allSettled([keyport.stop(), ...(plain ? [side.stop()] : [])]);
}

// Profiling aid for the CONNECT path (issue 17 item 1): a Keyport side takes N connects per round,
// R rounds, with nothing else running; run under `node --cpu-prof` and read the profile with
// bench/lib/cpuprofile-top.ts. Usage:
//   node --cpu-prof --cpu-prof-dir=DIR bin/run-ts.mjs bench/profile-connect.ts [N] [R] [aedes]
// (with `aedes`: plain aedes on the same clients, for a profile to set beside Keyport's).
import { ClientDriver } from './lib/client-driver.ts';
import { asPlain, startKeyport, startPlainAedes } from './lib/brokers.ts';
import { asConnect, provision } from './lib/provision.ts';

const n = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 8);
const driver = await ClientDriver.start();
const plain = process.argv[4] === 'aedes';
const keyport = await startKeyport();
const side = plain ? await startPlainAedes() : keyport;
try {
  const creds = await provision(keyport.service, n);
  await keyport.service.store.flush();
  const list = plain ? creds.map((c) => asPlain(c.deviceId)) : creds.map(asConnect);
  for (let r = 0; r < rounds; r++) {
    const { res, cpuUs } = await driver.connectRound(side, list, {
      concurrency: 100,
      ...(plain ? {} : { after: () => keyport.service.store.flush() }),
    });
    process.stdout.write(`round ${r}: ${res.connected} connected, ${Math.round(cpuUs)} µs CPU/connect\n`);
  }
} finally {
  driver.close();
  await Promise.allSettled([keyport.stop(), ...(plain ? [side.stop()] : [])]);
}

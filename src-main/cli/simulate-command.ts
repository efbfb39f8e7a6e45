// keyport simulate (docs/design.md §7, §12): one simulated device with given credentials, or a fleet of N
// devices each with its own new single-device key, headless. Prints every outcome as it happens,
// stops on SIGINT/SIGTERM or after --duration, then prints a summary by reason code.
//   keyport simulate (--secret-file F | --device ID --key K [--secret -]) [--every S] [--transport tcp|ws]
//                    [--url URL] [--source ADDR] [--attr name=generator]... [--duration S] [--json]
//   keyport simulate --fleet N [--shard I/S] [--tag k=v]... [--every S] [--duration S]
//                    [--url URL | --broker URL[,URL…]] [--keep] [--json]
// With --broker (a cluster's nodes) each device starts on one, spread by its fleet number, and
// moves to the next when its node goes away (docs/design.md §7, "Fleets across machines").
import { newId } from '../core/ids.ts';
import { settled } from '../simulator/fleets.ts';
import { attachDecisionFeed } from '../simulator/outcomes.ts';
import { brokerOrder } from '../simulator/shards.ts';
import { SimulatedDevice } from '../simulator/simulated-device.ts';
import { brokerUrl } from '../simulator/simulator.ts';
import type { CliIo } from './io.ts';
import { provisionFleet, removeMade, type Made, type Planned, type Say } from './simulate-fleet.ts';
import { byBroker, outcomeJson, outcomeLine, runLabel, Tally } from './simulate-output.ts';
import { parsePlan } from './simulate-plan.ts';
import { deviceNameOf, keyIdOf, openTarget } from './simulate-target.ts';
import { listenForStop, type StopRequest } from './stop-request.ts';
import { uiDir } from './ui-dir.ts';

export async function simulateCommand(args: string[], dataDir: string, io: CliIo): Promise<number> {
  const plan = await parsePlan(args, io);
  // From here on a signal stops the run cleanly, even while the fleet is being made or connected:
  // the devices and keys made for it are removed, as at any other stop (stop-request.ts).
  const stop = listenForStop(io.signals, ['SIGINT', 'SIGTERM']);
  const stopping = () => stop.reason !== null;
  const say: Say = (human, json) => io.stdout.write((plan.json ? JSON.stringify(json) : human) + '\n');
  let target: Awaited<ReturnType<typeof openTarget>>;
  try {
    target = await openTarget(dataDir, {
      uiDir: uiDir(),
      ...(plan.url || plan.brokers ? { url: plan.url ?? plan.brokers!.join(',') } : {}),
      ...(plan.api ? { api: plan.api } : {}),
      needApi: plan.fleet !== undefined,
    });
  } catch (err) {
    stop.dispose();
    throw err;
  }
  const made: Made = { deviceIds: [], keyIds: [] };
  try {
    say(`simulating ${runLabel(plan)} against ${target.description}`, {
      type: 'info',
      target: target.description,
      ...(plan.brokers ? { brokers: plan.brokers } : {}),
      ...(plan.fleet?.shard
        ? { shard: `${plan.fleet.shard.index}/${plan.fleet.shard.count}`, ...plan.fleet.range }
        : {}),
    });
    let configs: Planned[];
    if (plan.fleet) configs = await provisionFleet(plan, target, say, made, stopping);
    else {
      const s = plan.single!;
      const keyId = await keyIdOf(target.api, s.key);
      const name = s.name ?? (await deviceNameOf(target.api, s.deviceId)) ?? s.deviceId;
      configs = [
        {
          config: {
            deviceId: s.deviceId,
            name,
            credentials: { key: s.key, secret: s.secret },
            behaviour: plan.behaviour,
            transport: plan.transport,
          },
          ...(keyId ? { keyId } : {}),
          n: 1,
        },
      ];
    }
    const urls = plan.brokers ?? [plan.url ?? brokerUrl(target.listeners!, plan.transport)];
    const tally = new Tally();
    const byDevice = new Map<string, SimulatedDevice[]>();
    const sims = configs.map(({ config, keyId, n }) => {
      const sim = new SimulatedDevice({
        id: newId(),
        config: { ...config, ...(plan.source ? { sourceAddress: plan.source } : {}) },
        url: urls.length > 1 ? brokerOrder(urls, n) : urls[0]!,
        outcomes: target.decisions ? 'broker' : 'client',
        ...(keyId ? { keyId } : {}),
      });
      sim.events.on('log', ({ entry }) => {
        tally.add(entry);
        io.stdout.write(
          (plan.json
            ? outcomeJson(
                {
                  name: config.name ?? config.deviceId,
                  deviceId: config.deviceId,
                  ...(urls.length > 1 ? { broker: sim.broker } : {}),
                },
                entry,
              )
            : outcomeLine(config.name ?? config.deviceId, entry)) + '\n',
        );
      });
      byDevice.set(config.deviceId, [...(byDevice.get(config.deviceId) ?? []), sim]);
      return sim;
    });
    const detach = target.decisions ? attachDecisionFeed(target.decisions, (id) => byDevice.get(id)) : () => {};
    const started = Date.now();
    for (let i = 0; i < sims.length && !stopping(); i += 100) {
      const wave = sims.slice(i, i + 100);
      wave.forEach((s) => s.start());
      if (sims.length > 1) {
        await Promise.all(wave.map((s) => settled(s)));
        const connected = sims.filter((s) => s.connected).length;
        say(`connecting: ${Math.min(i + 100, sims.length)}/${sims.length} tried, ${connected} connected`, {
          type: 'progress',
          phase: 'connecting',
          tried: Math.min(i + 100, sims.length),
          connected,
          size: sims.length,
        });
      }
    }
    const why = await waitForEnd(sims, stop, plan.duration);
    const connected = sims.filter((s) => s.connected).length;
    const spread = urls.length > 1 ? byBroker(sims, urls) : undefined;
    await Promise.all(
      sims.map((s) =>
        s.stop(why === 'duration' ? 'stopped (--duration elapsed)' : why === 'signal' ? 'stopped (signal)' : 'stopped'),
      ),
    );
    if (target.drainMs) await new Promise((r) => setTimeout(r, target.drainMs)); // the broker's last decisions
    detach();
    const seconds = Math.round((Date.now() - started) / 100) / 10;
    const gaveUp = why === 'all-stopped';
    if (plan.json)
      say('', {
        type: 'summary',
        seconds,
        devices: sims.length,
        connected,
        byReason: tally.byReason,
        ...(spread ? spread : {}),
        ...(gaveUp ? { gaveUp: true } : {}),
      });
    else
      io.stdout.write(
        tally.lines(
          `summary after ${seconds} s: ${sims.length} device(s), ${connected} connected when stopped${gaveUp ? ' (every device gave up)' : ''}; outcomes by reason code:`,
        ) +
          (spread
            ? `by broker when stopped (connected / on it), ${spread.failovers} failover(s):\n` +
              urls.map((u) => `  ${u}  ${spread.byBroker[u]!.connected} / ${spread.byBroker[u]!.devices}`).join('\n') +
              '\n'
            : ''),
      );
    if (gaveUp) {
      const last = sims.map((s) => s.snapshot(0).stopReason).find((r) => r !== undefined) ?? 'stopped';
      io.stderr.write(`keyport: every simulated device stopped (${last})\n`);
      return 1;
    }
    return 0;
  } finally {
    stop.dispose();
    if (made.deviceIds.length && !plan.fleet?.keep) {
      await removeMade(target, made);
      say(`removed the ${made.deviceIds.length} devices and keys made for this run (--keep keeps them)`, {
        type: 'info',
        removed: made.deviceIds.length,
      });
    }
    await target.close();
  }
}

/** Resolves with why the run ends: the duration elapsed, a signal came, or every device gave up. */
function waitForEnd(
  sims: SimulatedDevice[],
  stop: StopRequest,
  duration?: number,
): Promise<'duration' | 'signal' | 'all-stopped'> {
  return new Promise((resolve) => {
    const offs: (() => void)[] = [];
    let done = false;
    const finish = (why: 'duration' | 'signal' | 'all-stopped') => {
      if (done) return;
      done = true;
      offs.forEach((off) => off());
      resolve(why);
    };
    if (stop.reason !== null) return finish('signal'); // asked to stop before the devices ran
    void stop.stopped.then(() => finish('signal'));
    if (duration !== undefined) {
      const t = setTimeout(() => finish('duration'), duration * 1000);
      offs.push(() => clearTimeout(t));
    }
    const check = () => {
      if (sims.every((s) => !s.running)) finish('all-stopped');
    };
    for (const s of sims) offs.push(s.events.on('changed', check));
    check();
  });
}

// Parent side of the load generator: forks client-worker.ts (through bin/run-ts.mjs, so it runs
// TypeScript like the bench) and sends it commands over IPC. The child does all client work, so
// process.cpuUsage() in the parent measures the in-process broker.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ConnectFields } from './mqtt-wire.ts';

export type WorkerRequest =
  | { cmd: 'connect'; port: number; clients: ConnectFields[]; concurrency: number; hold: boolean; capMs: number }
  | { cmd: 'release' }
  | {
      cmd: 'pubsub';
      port: number;
      /** The subscriber's broker when it is not the publisher's (bench/cluster.ts: another node). */
      subPort?: number;
      pub: ConnectFields;
      sub: ConnectFields;
      topic: string;
      count: number;
      size: number;
      /** The message body (default: `size` bytes of 'a'). */
      payload?: string;
      qos: 0 | 1;
      window: number;
      capMs: number;
    }
  | {
      cmd: 'subscribe';
      port: number;
      /** Each client connects, subscribes to its filter (same index) and is held until `release`. */
      clients: ConnectFields[];
      filters: string[];
      concurrency: number;
      capMs: number;
    }
  | { cmd: 'resubscribe'; filter: string; concurrency: number }
  | {
      /** One publisher sends `count` messages to `topic`; done when the held subscribers have
       * `count × deliveriesPerMessage` deliveries between them (bench/subscriptions.ts). */
      cmd: 'fanout';
      port: number;
      pub: ConnectFields;
      topic: string;
      payload: string;
      count: number;
      deliveriesPerMessage: number;
      /** Messages allowed between the publisher and the slowest delivery. */
      window: number;
      capMs: number;
    }
  | {
      cmd: 'http-post';
      port: number;
      path: string;
      /** One JSON body per request, sent in order over `concurrency` kept-alive connections. */
      bodies: string[];
      concurrency: number;
      capMs: number;
    }
  | { cmd: 'cpu' };

export type WorkerReply = { ok: true; [k: string]: unknown } | { ok: false; error: string };

export interface ConnectResult {
  ms: number;
  connected: number;
  refused: number;
  errors: number;
  latencies: number[];
  firstError?: string;
}

export interface SubscribeResult {
  ms: number;
  subscribed: number;
  refused: number;
  errors: number;
  firstError?: string;
}

export interface FanoutResult {
  ms: number;
  sent: number;
  delivered: number;
  timedOut: boolean;
}

export interface HttpPostResult {
  ms: number;
  /** Requests answered 200. */
  ok200: number;
  /** Requests answered with another status, or not answered. */
  failed: number;
  latencies: number[];
  firstError?: string;
}

export interface PubSubResult {
  ms: number;
  sent: number;
  received: number;
  acked: number;
  timedOut: boolean;
}

const RUN_TS = fileURLToPath(new URL('../../bin/run-ts.mjs', import.meta.url));
const WORKER = fileURLToPath(new URL('./client-worker.ts', import.meta.url));

export class ClientDriver {
  #seq = 0;
  readonly #pending = new Map<
    number,
    { resolve: (r: WorkerReply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: { id: number; reply: WorkerReply }) => {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      clearTimeout(p.timer);
      p.resolve(m.reply);
    });
    child.on('exit', (code) => {
      for (const [, p] of this.#pending) {
        clearTimeout(p.timer);
        p.reject(new Error(`client worker exited (code ${code})`));
      }
      this.#pending.clear();
    });
  }

  static start(): Promise<ClientDriver> {
    const child = fork(RUN_TS, [WORKER], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error('client worker did not start within 30 s'));
      }, 30_000);
      child.once('message', () => {
        clearTimeout(timer);
        resolve(new ClientDriver(child));
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  request(req: WorkerRequest, timeoutMs: number): Promise<Record<string, unknown>> {
    const id = ++this.#seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`client worker: no answer to ${req.cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (r) => (r.ok ? resolve(r) : reject(new Error(`client worker: ${r.error}`))),
        reject,
        timer,
      });
      this.child.send({ id, req });
    });
  }

  async connect(
    port: number,
    clients: ConnectFields[],
    opts: { concurrency: number; hold: boolean; capMs: number },
  ): Promise<ConnectResult> {
    return (await this.request(
      { cmd: 'connect', port, clients, ...opts },
      opts.capMs + 30_000,
    )) as unknown as ConnectResult;
  }

  async release(): Promise<void> {
    await this.request({ cmd: 'release' }, 60_000);
  }

  /**
   * One CONNECT round on a broker side: waits for it to settle, connects every client (held),
   * runs `after` (Keyport: the store flush its status writes are part of), then releases them.
   * `cpuUs` is the side's CPU per accepted connect over the connects and `after`.
   */
  async connectRound(
    side: { cpuMs(): number; settle(): Promise<void>; port: number },
    clients: ConnectFields[],
    opts: { concurrency: number; after?: () => Promise<void> },
  ): Promise<{ res: ConnectResult; cpuUs: number }> {
    await side.settle();
    const cpu0 = side.cpuMs();
    const res = await this.connect(side.port, clients, { concurrency: opts.concurrency, hold: true, capMs: 120_000 });
    await opts.after?.();
    const cpu = side.cpuMs() - cpu0;
    await this.release();
    return { res, cpuUs: (cpu * 1000) / Math.max(1, res.connected) };
  }

  async pubsub(req: Omit<Extract<WorkerRequest, { cmd: 'pubsub' }>, 'cmd'>): Promise<PubSubResult> {
    return (await this.request({ cmd: 'pubsub', ...req }, req.capMs + 30_000)) as unknown as PubSubResult;
  }

  /** Connects and subscribes the clients and holds them (until `release`). */
  async subscribe(req: Omit<Extract<WorkerRequest, { cmd: 'subscribe' }>, 'cmd'>): Promise<SubscribeResult> {
    // The cap bounds the whole population; 30 s more for the answer of a busy worker.
    return (await this.request({ cmd: 'subscribe', ...req }, req.capMs + 30_000)) as unknown as SubscribeResult;
  }

  /** Every client held by `subscribe` subscribes to one more filter. */
  async resubscribe(filter: string, concurrency: number): Promise<void> {
    // 10,000 SUBACKs take seconds on a busy machine; two minutes means the broker is stuck.
    await this.request({ cmd: 'resubscribe', filter, concurrency }, 120_000);
  }

  async fanout(req: Omit<Extract<WorkerRequest, { cmd: 'fanout' }>, 'cmd'>): Promise<FanoutResult> {
    // As for subscribe: the cap plus 30 s for the answer.
    return (await this.request({ cmd: 'fanout', ...req }, req.capMs + 30_000)) as unknown as FanoutResult;
  }

  async httpPost(req: Omit<Extract<WorkerRequest, { cmd: 'http-post' }>, 'cmd'>): Promise<HttpPostResult> {
    return (await this.request({ cmd: 'http-post', ...req }, req.capMs + 30_000)) as unknown as HttpPostResult;
  }

  async cpuMs(): Promise<number> {
    return (await this.request({ cmd: 'cpu' }, 10_000)).cpuMs as number;
  }

  close(): void {
    if (this.child.connected) this.child.disconnect();
    const child = this.child;
    setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }, 2_000).unref();
  }
}

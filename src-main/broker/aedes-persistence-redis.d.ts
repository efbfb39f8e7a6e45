// aedes-persistence-redis ships no types. Only what cluster-engine.ts uses: the factory takes
// ioredis options or `conn` (a connection it then owns), and returns an aedes persistence.
declare module 'aedes-persistence-redis' {
  import type { Redis } from 'ioredis';
  interface RedisPersistenceOptions {
    /** The connection to use (created by the caller, so its options and errors are the caller's). */
    conn?: Redis;
    /** How many offline messages a session gets on reconnect (default 1000). */
    maxSessionDelivery?: number;
  }
  /** An aedes persistence (aedes types it as `any`). */
  interface RedisPersistence {
    setup(broker: unknown): Promise<void>;
    destroy(cb?: () => void): void;
  }
  function persistence(opts?: RedisPersistenceOptions): RedisPersistence;
  export default persistence;
}

// The Store contract (test/unit/store/store-contract.ts) against the Redis store, on a real
// redis-server. Each store under test gets its own key prefix in one Redis.
import { afterAll, beforeAll } from 'vitest';
import { openRedisStore } from '../../src-main/store/redis-store.ts';
import { startRedis, type RedisServer } from '../helpers/redis-server.ts';
import { runStoreContract } from '../unit/store/store-contract.ts';

let redis: RedisServer;
let n = 0;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

runStoreContract(
  'redis',
  async () => {
    const prefix = `contract${++n}:`;
    const store = await openRedisStore(redis.url, { prefix });
    return {
      store,
      reopen: async () => {
        await store.close();
        return openRedisStore(redis.url, { prefix });
      },
    };
  },
  { persistent: true },
);

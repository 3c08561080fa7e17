/**
 * @module test/helpers/redis
 * The Redis the integration tests use, and a check that fails loudly (never skips) when it is down.
 */
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.VEXIL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Throws an error naming the URL when Redis does not answer PING. */
export async function requireRedis(url = REDIS_URL): Promise<void> {
  const probe = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await probe.connect();
    await probe.ping();
  } catch (err) {
    throw new Error(`Redis is unreachable at ${url} (these tests need it running): ${(err as Error).message}`);
  } finally {
    probe.disconnect();
  }
}

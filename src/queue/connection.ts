/**
 * Where the sweep queue lives: a `redis://[user:password@]host:port/db` URL (rediss:// for TLS) turned into the
 * connection options BullMQ hands to ioredis, the one queue every sweep and worker shares, and a quick reachability
 * check so that a wrong URL fails in seconds with the URL in the message instead of retrying forever.
 */
import { Redis } from 'ioredis';

/** Every sweep goes into this one BullMQ queue: workers are started without knowing sweep names. */
export const QUEUE_NAME = 'sparsecast';

/** The parts of a Redis URL, in the option names ioredis (and BullMQ's `connection`) take. */
export interface RedisAddress {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls?: Record<string, never>;
}

export function redisOptions(url: string): RedisAddress {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--queue expects a Redis URL like redis://127.0.0.1:6379/0, got '${url}'`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`--queue: ${url} is not a redis:// or rediss:// URL`);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new Error(`--queue: the database in ${url} must be a number (redis://host:port/0)`);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    db: db === '' ? 0 : Number(db),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** The URL without its password, for messages. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * One PING with no retries: the commands that only read or enqueue (sweep --status / --collect / enqueue) should
 * say "cannot reach Redis at URL" rather than hang in ioredis' reconnect loop. Workers skip this and keep retrying
 * (a Redis restart must not kill them).
 */
export async function checkReachable(url: string, timeoutMs = 5000): Promise<void> {
  const client = new Redis({ ...redisOptions(url), lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // The connection error (ECONNREFUSED, a DNS failure) arrives as an event; the rejected connect only says closed.
  let cause: string | undefined;
  client.on('error', (err: Error) => (cause ??= err.message));
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    throw new Error(`cannot reach Redis at ${safeUrl(url)}: ${cause ?? (err instanceof Error ? err.message : String(err))}`);
  } finally {
    client.disconnect();
  }
}

import { backoffDelay, RetriesExhaustedError, withRetry } from '../../lambda/shared/retry';
import { clientConfig, isTransientDatabaseError } from '../../lambda/shared/postgres';
import type { Database } from '../../lambda/shared/database';
import { progressOf, replicatedBy } from '../../lambda/shared/replication';

const noSleep = async (): Promise<void> => undefined;

describe('withRetry', () => {
  it('keeps every delay within the exponential ceiling and the cap (full jitter)', () => {
    expect(backoffDelay(0, 100, 5000, () => 0.999)).toBe(99);
    expect(backoffDelay(3, 100, 5000, () => 0.999)).toBe(799);
    expect(backoffDelay(10, 100, 5000, () => 0.999)).toBe(4995);
    expect(backoffDelay(10, 100, 5000, () => 0)).toBe(0);
  });

  it('retries a transient failure and returns the eventual result', async () => {
    const delays: number[] = [];
    let calls = 0;
    const result = await withRetry(
      'flaky call',
      async () => {
        calls++;
        if (calls < 3) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
        return 'done';
      },
      { sleep: noSleep, random: () => 0.5, onRetry: (_error, _attempt, delay) => delays.push(delay) },
    );
    expect(result).toBe('done');
    expect(calls).toBe(3);
    expect(delays).toEqual([50, 100]);
  });

  it('rethrows a non-retryable error at once', async () => {
    let calls = 0;
    const failure = new Error('bad input');
    await expect(
      withRetry(
        'validation',
        async () => {
          calls++;
          throw failure;
        },
        { isRetryable: () => false, sleep: noSleep },
      ),
    ).rejects.toBe(failure);
    expect(calls).toBe(1);
  });

  it('names the operation and the last error when attempts run out', async () => {
    const attempt = withRetry(
      'connect to writer',
      async () => {
        throw new Error('ECONNREFUSED 10.10.0.5:5432');
      },
      { attempts: 3, sleep: noSleep },
    );
    await expect(attempt).rejects.toThrow(RetriesExhaustedError);
    await expect(attempt).rejects.toThrow('connect to writer failed after 3 attempt(s): ECONNREFUSED 10.10.0.5:5432');
  });
});

describe('database connections', () => {
  it('verifies the server certificate by default', () => {
    const config = clientConfig({ host: 'writer', port: 5432, database: 'trading', credentials: { username: 'u', password: 'p' } });
    expect(config.ssl).toEqual({ rejectUnauthorized: true });
  });

  it.each([
    ['connection failure', { code: '08006' }, true],
    ['too many connections', { code: '53300' }, true],
    ['admin shutdown during failover', { code: '57P01' }, true],
    ['read-only after demotion', { code: '25006' }, true],
    ['serialization failure', { code: '40001' }, true],
    ['socket reset', { code: 'ECONNRESET' }, true],
    ['unique violation', { code: '23505' }, false],
    ['syntax error', { code: '42601' }, false],
    ['plain error', new Error('boom'), false],
  ])('classifies %s as transient=%s', (_case, error, transient) => {
    expect(isTransientDatabaseError(error)).toBe(transient);
  });
});

/** Runs `work` against a new migrated database with a pool of `poolSize`, then drops it. */
async function withDatabase(name: string, poolSize: number, work: (database: Database) => Promise<void>): Promise<void> {
  const { createTestDatabase } = await import('../helpers/database');
  const { migratedDatabase } = await import('../helpers/orders');
  const testDatabase = await createTestDatabase(name);
  const database = await migratedDatabase(testDatabase, poolSize);
  try {
    await work(database);
  } finally {
    await database.end();
    await testDatabase.drop();
  }
}

describe('database pool', () => {
  it('opens one pool for records that start at once, never more connections than its size', async () => {
    await withDatabase('pool', 3, async (database) => {
      const backends = await Promise.all(
        Array.from({ length: 30 }, () => database.query<{ pid: number }>('backend', 'SELECT pg_backend_pid() AS pid, pg_sleep(0.01)')),
      );
      expect(new Set(backends.map((rows) => rows[0].pid)).size).toBeLessThanOrEqual(3);
    });
  });
});

describe('one-trip transactions', () => {
  const ADD_ONE = { name: 'add_one', parameterTypes: ['int'], text: 'SELECT $1 + 1 AS n' };

  it('prepares a statement once per connection, and recovers when the server has it or lost it', async () => {
    await withDatabase('one_trip', 1, async (database) => {
      const run = async (value: number) =>
        (await database.transactionInOneTrip<{ n: number }>('add one', [`EXECUTE add_one(${value})`], undefined, [ADD_ONE]))[0][0].n;
      // The first transaction fails after its PREPARE, which is not transactional and stays: the
      // next call's PREPARE finds it there, and the call goes on with it.
      await expect(database.transactionInOneTrip('fail first', ['SELECT 1 / 0'], undefined, [ADD_ONE])).rejects.toThrow(/division by zero/);
      expect(await run(1)).toBe(2);
      expect(await run(2)).toBe(3);
      const prepared = await database.query<{ name: string }>('prepared', 'SELECT name FROM pg_prepared_statements');
      expect(prepared).toEqual([{ name: 'add_one' }]);
      // The server dropped it behind the pool's back: the next call prepares it again.
      await database.query('forget it', 'DEALLOCATE add_one');
      expect(await run(3)).toBe(4);
      // A failed transaction rolls back its writes, and the statement stays usable.
      await expect(database.transactionInOneTrip('fail', ['CREATE TABLE one_trip_t (n int)', 'SELECT 1 / 0'], undefined, [ADD_ONE])).rejects.toThrow(
        /division by zero/,
      );
      expect(await database.query('table', "SELECT to_regclass('one_trip_t') AS t")).toEqual([{ t: null }]);
      expect(await run(4)).toBe(5);
    });
  });

  it('limits its statements to the time the caller has left', async () => {
    await withDatabase('one_trip_limit', 1, async (database) => {
      const started = Date.now();
      await expect(database.transactionInOneTrip('sleep', ['SELECT pg_sleep(5)'], { remainingMs: () => 600, reserveMs: 100 })).rejects.toThrow(
        /statement timeout/,
      );
      expect(Date.now() - started).toBeLessThan(4000);
    });
  });
});

describe('replication progress from aurora_global_db_status()', () => {
  const primary = { aws_region: 'us-east-1', rpo_lag_in_msec: '-1', last_lag_calculation_time: new Date('1970-01-01T00:00:00Z') };
  const at = new Date('2026-11-28T12:00:00Z');

  it('takes the earliest point every secondary has reached', () => {
    const progress = progressOf([
      primary,
      { aws_region: 'us-east-2', rpo_lag_in_msec: '1500', last_lag_calculation_time: at },
      { aws_region: 'us-west-2', rpo_lag_in_msec: 200, last_lag_calculation_time: new Date(at.getTime() - 2000) },
    ]);
    expect(progress).toEqual({ kind: 'secondaries', through: new Date(at.getTime() - 2200), secondaries: 2 });
    expect(replicatedBy(progress, at.getTime() - 2200 - 5000, 5000)).toBe(true);
    expect(replicatedBy(progress, at.getTime() - 2200 - 4999, 5000)).toBe(false);
  });

  it('knows no secondary as none (everything counts as replicated) and an empty answer likewise', () => {
    expect(progressOf([primary])).toEqual({ kind: 'none' });
    expect(progressOf([])).toEqual({ kind: 'none' });
    expect(replicatedBy({ kind: 'none' }, Date.now(), 5000)).toBe(true);
  });

  it('treats a secondary without a usable lag as unknown, so nothing counts as replicated', () => {
    for (const row of [
      { aws_region: 'us-east-2', rpo_lag_in_msec: null, last_lag_calculation_time: at },
      { aws_region: 'us-east-2', rpo_lag_in_msec: '-5', last_lag_calculation_time: at },
      { aws_region: 'us-east-2', rpo_lag_in_msec: '10', last_lag_calculation_time: null },
    ]) {
      const progress = progressOf([primary, row]);
      expect(progress).toMatchObject({ kind: 'unknown', reason: expect.stringContaining('secondary us-east-2 reports no usable lag') });
      expect(replicatedBy(progress, 0, 0)).toBe(false);
    }
  });
});

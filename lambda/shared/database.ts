import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Logger } from '@aws-lambda-powertools/logger';
import { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import { clientConfig, DatabaseCredentials, DatabaseSecretSchema, isTransientDatabaseError } from './postgres';
import { RetryOptions, withRetry } from './retry';

/** Where a function's database is and how to reach it. */
export interface DatabaseTarget {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  /** The master secret (the replica in the secondary region). */
  readonly secretArn: string;
  /** Connections this container keeps. */
  readonly poolSize: number;
  /** Verify the server certificate. False only for the loopback test server. */
  readonly tls: boolean;
  /** Connection timeout in milliseconds. @default 5000 */
  readonly connectTimeoutMs?: number;
}

/** How long a caller may still spend on the database, from its invocation's remaining time. */
export interface TimeBudget {
  /** Milliseconds left before the function must answer. */
  readonly remainingMs: () => number;
  /** Kept back for answering (and for the work after the database call). */
  readonly reserveMs: number;
}

/** Attempts under a time budget: enough for a writer restart at the backoff's cap, finite whatever the clock says. */
const BUDGET_ATTEMPTS = 100;

/** The least a statement is given, however little time is left (below it, the call fails at once instead). */
const MIN_STATEMENT_MS = 200;

/**
 * A transaction's statements, lock waits and idle time limited to what the caller has left
 * (`SET LOCAL`, so they end with the transaction); none without a budget.
 */
function timeLimits(budget?: TimeBudget): string[] {
  if (!budget) return [];
  const limitMs = Math.max(MIN_STATEMENT_MS, Math.floor(budget.remainingMs() - budget.reserveMs));
  return [`SET LOCAL statement_timeout = ${limitMs}`, `SET LOCAL lock_timeout = ${limitMs}`, `SET LOCAL idle_in_transaction_session_timeout = ${limitMs}`];
}

/** A statement a connection parses and plans once (SQL PREPARE), then runs with `EXECUTE name(...)`. */
export interface PreparedStatement {
  /** Its name on the connection (an SQL identifier). */
  readonly name: string;
  /** The types of `$1`, `$2`, ... */
  readonly parameterTypes: readonly string[];
  readonly text: string;
}

/** SQLSTATE 42P05 and 26000: PREPARE of a name the connection has, EXECUTE of one it lacks. */
const DUPLICATE_PREPARED_STATEMENT = '42P05';
const UNKNOWN_PREPARED_STATEMENT = '26000';

/** PostgreSQL's "invalid password": the secret was rotated since this container read it. */
const INVALID_PASSWORD = '28P01';

/**
 * A connection pool per container, created on first use with credentials from the replicated
 * secret. Transient errors are retried with backoff and jitter; a rejected password makes it read
 * the secret again once (rotation) before giving up.
 */
export class Database {
  /** One pool per container; a promise, so records of a batch that start at once share it. */
  private pool: Promise<Pool> | undefined;
  private credentials: DatabaseCredentials | undefined;
  /** The prepared statements each pooled connection holds (a connection that breaks goes, and its entry with it). */
  private readonly preparedOn = new WeakMap<PoolClient, Set<string>>();

  constructor(
    private readonly target: DatabaseTarget,
    private readonly secrets: SecretsManagerClient,
    private readonly logger: Logger,
    private readonly retry: RetryOptions = { attempts: 4, baseDelayMs: 50, maxDelayMs: 1000 },
  ) {}

  /**
   * Runs `work` with a pooled client, retrying transient failures of the whole unit: by attempts,
   * or with a `budget` for as long as the caller's time allows (a writer restart takes about 30 s).
   */
  public async withClient<T>(operation: string, work: (client: PoolClient) => Promise<T>, budget?: TimeBudget): Promise<T> {
    return withRetry(
      operation,
      async () => {
        const pool = await this.getPool();
        let client: PoolClient;
        try {
          client = await pool.connect();
        } catch (error) {
          await this.handleConnectError(error);
          throw error;
        }
        // A checked-out client whose connection drops emits 'error'; without a listener that
        // would end the process (and lose the batch's answer). The query in flight fails instead.
        let broken: Error | undefined;
        const onError = (error: Error) => {
          broken = error;
          this.logger.warn('database connection lost during an operation', { operation, error: error.message });
        };
        client.on('error', onError);
        try {
          return await work(client);
        } finally {
          client.off('error', onError);
          // A broken connection goes back as broken, so the pool closes it instead of reusing it.
          client.release(broken);
        }
      },
      {
        ...this.retry,
        ...(budget ? { attempts: BUDGET_ATTEMPTS, budgetMs: () => budget.remainingMs() - budget.reserveMs } : {}),
        isRetryable: (error) => isTransientDatabaseError(error) || (error as { code?: string }).code === INVALID_PASSWORD,
        onRetry: (error, attempt, delayMs) =>
          this.logger.warn('database operation failed, retrying', {
            operation,
            attempt,
            delayMs,
            code: (error as { code?: string }).code,
            error: (error as Error).message,
          }),
      },
    );
  }

  /** One statement. */
  public async query<R extends QueryResultRow>(operation: string, sql: string, params: unknown[] = []): Promise<R[]> {
    return this.withClient(operation, async (client) => (await client.query<R>(sql, params)).rows);
  }

  /**
   * Statements in one transaction, rolled back on any error. With a `budget`, its statements, lock
   * waits and idle time are limited to the time the caller has left, so nothing it started can
   * commit after it has answered.
   */
  public async transaction<T>(operation: string, work: (client: PoolClient) => Promise<T>, budget?: TimeBudget): Promise<T> {
    const inTransaction = async (client: PoolClient): Promise<T> => {
      await client.query('BEGIN');
      try {
        const limits = timeLimits(budget);
        if (limits.length > 0) await client.query(limits.join('; '));
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await this.rollback(client, operation);
        throw error;
      }
    };
    return this.withClient(operation, inTransaction, budget);
  }

  /**
   * `statements` as one transaction sent in one message, with the time limits of `transaction`:
   * one round trip to the writer instead of one per statement (PostgreSQL's simple query
   * protocol, "Multiple Statements in a Simple Query"). The statements take no parameters, so
   * every value in them must be a literal quoted with pg's `escapeLiteral`; a statement run often
   * is `prepared` once per connection (SQL PREPARE, so the server parses and plans it once) and
   * called with `EXECUTE name(...)` (prepared statements belong to the session: this needs direct
   * connections, as here, not a proxy that pools transactions). Returns each statement's rows, in
   * order. A statement that fails rolls back the whole transaction.
   */
  public async transactionInOneTrip<R extends QueryResultRow>(
    operation: string,
    statements: readonly string[],
    budget?: TimeBudget,
    prepared: readonly PreparedStatement[] = [],
  ): Promise<R[][]> {
    return this.withClient(
      operation,
      async (client) => {
        const known = this.preparedOn.get(client) ?? new Set<string>();
        this.preparedOn.set(client, known);
        for (let attempt = 1; ; attempt++) {
          const preparing = prepared
            .filter((statement) => !known.has(statement.name))
            .map((statement) => `PREPARE ${statement.name} (${statement.parameterTypes.join(', ')}) AS ${statement.text}`);
          const limits = timeLimits(budget);
          const script = [...preparing, 'BEGIN', ...limits, ...statements, 'COMMIT'];
          try {
            const results = (await client.query(script.join(';\n'))) as unknown as QueryResult<R>[];
            for (const statement of prepared) known.add(statement.name);
            const first = preparing.length + 1 + limits.length;
            return results.slice(first, first + statements.length).map((result) => result.rows);
          } catch (error) {
            // The failed statement left the session in an aborted transaction block.
            await this.rollback(client, operation);
            // PREPARE is not transactional: one this script ran stays even though the script
            // failed. The next call learns from the server which it is (42P05: there; 26000: not).
            const code = (error as { code?: string }).code;
            if (attempt === 1 && code === DUPLICATE_PREPARED_STATEMENT) {
              for (const statement of prepared) known.add(statement.name);
              continue;
            }
            if (attempt === 1 && code === UNKNOWN_PREPARED_STATEMENT) {
              known.clear();
              continue;
            }
            throw error;
          }
        }
      },
      budget,
    );
  }

  private async rollback(client: PoolClient, operation: string): Promise<void> {
    await client
      .query('ROLLBACK')
      .catch((rollbackError: unknown) => this.logger.error('rollback failed', { operation, error: (rollbackError as Error).message }));
  }

  /** Closes the pool (tests; Lambda freezes containers instead). */
  public async end(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await (await pool?.catch(() => undefined))?.end();
  }

  private getPool(): Promise<Pool> {
    if (!this.pool) {
      const creating = this.createPool();
      // A failed creation (the secret unreadable) must not stick: the next call tries again.
      creating.catch(() => {
        if (this.pool === creating) this.pool = undefined;
      });
      this.pool = creating;
    }
    return this.pool;
  }

  private async createPool(): Promise<Pool> {
    const credentials = this.credentials ?? (await this.readCredentials());
    this.credentials = credentials;
    const pool = new Pool({
      ...clientConfig({
        host: this.target.host,
        port: this.target.port,
        database: this.target.database,
        credentials,
        tls: this.target.tls,
        connectTimeoutMs: this.target.connectTimeoutMs,
      }),
      max: this.target.poolSize,
      idleTimeoutMillis: 60_000,
    });
    // An idle client losing its connection (a failover) must not crash the container.
    pool.on('error', (error) => this.logger.warn('idle database connection lost', { error: error.message }));
    return pool;
  }

  private async handleConnectError(error: unknown): Promise<void> {
    if ((error as { code?: string }).code !== INVALID_PASSWORD) return;
    this.logger.warn('database password rejected; reading the secret again (rotation)', { secretArn: this.target.secretArn });
    this.credentials = undefined;
    await this.end();
  }

  private async readCredentials(): Promise<DatabaseCredentials> {
    const response = await this.secrets.send(new GetSecretValueCommand({ SecretId: this.target.secretArn }));
    if (!response.SecretString) throw new Error(`secret ${this.target.secretArn} has no string value`);
    const parsed = DatabaseSecretSchema.safeParse(JSON.parse(response.SecretString));
    if (!parsed.success) throw new Error(`secret ${this.target.secretArn} lacks username or password`);
    return parsed.data;
  }
}

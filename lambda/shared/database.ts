import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Logger } from '@aws-lambda-powertools/logger';
import { Pool, PoolClient, QueryResultRow } from 'pg';
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

  constructor(
    private readonly target: DatabaseTarget,
    private readonly secrets: SecretsManagerClient,
    private readonly logger: Logger,
    private readonly retry: RetryOptions = { attempts: 4, baseDelayMs: 50, maxDelayMs: 1000 },
  ) {}

  /** Runs `work` with a pooled client, retrying transient failures of the whole unit. */
  public async withClient<T>(operation: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
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
        try {
          return await work(client);
        } finally {
          client.release();
        }
      },
      {
        ...this.retry,
        isRetryable: (error) => isTransientDatabaseError(error) || (error as { code?: string }).code === INVALID_PASSWORD,
        onRetry: (error, attempt, delayMs) =>
          this.logger.warn('database operation failed, retrying', { operation, attempt, delayMs, code: (error as { code?: string }).code, error: (error as Error).message }),
      },
    );
  }

  /** One statement. */
  public async query<R extends QueryResultRow>(operation: string, sql: string, params: unknown[] = []): Promise<R[]> {
    return this.withClient(operation, async (client) => (await client.query<R>(sql, params)).rows);
  }

  /** Statements in one transaction, rolled back on any error. */
  public async transaction<T>(operation: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
    return this.withClient(operation, async (client) => {
      await client.query('BEGIN');
      try {
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: unknown) =>
          this.logger.error('rollback failed', { operation, error: (rollbackError as Error).message }),
        );
        throw error;
      }
    });
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

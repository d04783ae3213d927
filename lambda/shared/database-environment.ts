import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { DATABASE_VARIABLES } from '../contracts/common';
import type { Environment } from '../contracts/environment';
import { Database } from './database';
import type { RetryOptions } from './retry';

/** The connection variables every database-facing function reads (DATABASE_VARIABLES; lib/ sets them from the GlobalDatabase). */
export type DatabaseEnvironment = Environment<typeof DATABASE_VARIABLES>;

export interface DatabaseFromEnvironmentOptions {
  readonly poolSize: number;
  /** Connection timeout in milliseconds. @default 5000 */
  readonly connectTimeoutMs?: number;
  /** Attempts of Secrets Manager calls (the SDK's standard retry mode). @default 5 */
  readonly secretsMaxAttempts?: number;
  /** Retries of database work. @default Database's */
  readonly retry?: RetryOptions;
}

/** The container's database pool, always over TLS with certificate verification. */
export function databaseFromEnvironment(environment: DatabaseEnvironment, logger: Logger, options: DatabaseFromEnvironmentOptions): Database {
  return new Database(
    {
      host: environment.DB_HOST,
      port: environment.DB_PORT,
      database: environment.DB_NAME,
      secretArn: environment.DB_SECRET_ARN,
      poolSize: options.poolSize,
      tls: true,
      connectTimeoutMs: options.connectTimeoutMs,
    },
    new SecretsManagerClient({ maxAttempts: options.secretsMaxAttempts ?? 5 }),
    logger,
    options.retry,
  );
}

import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { Database } from './database';
import type { RetryOptions } from './retry';

/** The environment variables every database-facing function gets (lib/ sets them from the GlobalDatabase). */
export const DatabaseEnvironmentSchema = z.object({
  DB_HOST: z.string().min(1),
  DB_PORT: z.coerce.number().int().min(1),
  DB_NAME: z.string().min(1),
  DB_SECRET_ARN: z.string().min(1),
});
export type DatabaseEnvironment = z.infer<typeof DatabaseEnvironmentSchema>;

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

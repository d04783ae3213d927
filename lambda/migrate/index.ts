import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Client } from 'pg';
import { createLogger } from '../shared/logger';
import { clientConfig, DatabaseCredentials, DatabaseSecretSchema, isTransientDatabaseError } from '../shared/postgres';
import { withRetry } from '../shared/retry';
import { MIGRATIONS } from './migrations';
import { applyMigrations } from './migrator';
import { MigrationProperties, parseMigrationEvent } from './request';

const logger = createLogger('schema-migration');
// The SDK's standard retry mode backs off exponentially with jitter; five attempts ride out
// throttling and a brief endpoint hiccup.
const secrets = new SecretsManagerClient({ maxAttempts: 5 });

/** Database connection attempts: a cluster that has just been created can refuse connections for a while. */
const CONNECT_RETRY = { attempts: 8, baseDelayMs: 500, maxDelayMs: 15_000 } as const;

async function readCredentials(secretArn: string): Promise<DatabaseCredentials> {
  const response = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
  if (!response.SecretString) throw new Error(`secret ${secretArn} has no string value`);
  const parsed = DatabaseSecretSchema.safeParse(JSON.parse(response.SecretString));
  if (!parsed.success) throw new Error(`secret ${secretArn} lacks username or password`);
  return parsed.data;
}

/**
 * Applies pending migrations to the writer; returns what it did. `tls: false` exists for the
 * loopback test server only; the handler always verifies the cluster's certificate.
 */
export async function migrate(properties: MigrationProperties, options: { tls?: boolean } = {}) {
  const credentials = await readCredentials(properties.SecretArn);
  return withRetry(
    `apply migrations to ${properties.Host}/${properties.Database}`,
    async () => {
      const client = new Client(clientConfig({ host: properties.Host, port: properties.Port, database: properties.Database, credentials, tls: options.tls }));
      await client.connect();
      try {
        return await applyMigrations(client, MIGRATIONS);
      } finally {
        await client.end();
      }
    },
    {
      ...CONNECT_RETRY,
      isRetryable: isTransientDatabaseError,
      onRetry: (error, attempt, delayMs) => logger.warn('database not ready, retrying', { attempt, delayMs, error: (error as Error).message }),
    },
  );
}

/** CDK provider framework onEvent handler for the schema migration custom resource. */
export async function handler(event: unknown): Promise<{ PhysicalResourceId: string; Data?: Record<string, string> }> {
  const request = parseMigrationEvent(event);
  if (request.kind === 'delete') {
    logger.info('schema left in place: the cluster is deleted with the stack', { physicalResourceId: request.physicalResourceId });
    return { PhysicalResourceId: request.physicalResourceId };
  }
  const { properties } = request;
  const result = await migrate(properties);
  logger.info('schema migrated', { host: properties.Host, database: properties.Database, applied: result.applied, skipped: result.skipped });
  return {
    PhysicalResourceId: `${properties.Host}/${properties.Database}/schema`,
    Data: { Applied: result.applied.join(','), Skipped: result.skipped.join(',') },
  };
}

import { SecretsManagerClient, CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { MIGRATIONS } from '../../lambda/migrate/migrations';
import { applyMigrations } from '../../lambda/migrate/migrator';
import { Database } from '../../lambda/shared/database';
import { silentLogger } from './aws';
import { TestDatabase } from './database';

export { sqsEvent } from './sqs-event';

/** The migrated schema in a test database, and a pooled Database for the handlers (no TLS on loopback). */
export async function migratedDatabase(testDatabase: TestDatabase, poolSize = 4): Promise<Database> {
  const client = await testDatabase.connect();
  try {
    await applyMigrations(client, MIGRATIONS);
  } finally {
    await client.end();
  }
  const secrets = new SecretsManagerClient({});
  const secret = await secrets.send(
    new CreateSecretCommand({ Name: `db-${testDatabase.name}`, SecretString: JSON.stringify({ username: 'postgres', password: 'trust-auth-on-loopback' }) }),
  );
  return new Database(
    { host: testDatabase.host, port: testDatabase.port, database: testDatabase.name, secretArn: secret.ARN!, poolSize, tls: false },
    secrets,
    silentLogger,
    { attempts: 6, baseDelayMs: 5, maxDelayMs: 50 },
  );
}

/**
 * Fault injection in the real database: every `every`-th insert attempt into orders fails with a
 * serialization failure (40001). Sequences are not transactional, so a retried insert draws the
 * next number and passes: a deterministic stream of transient failures, no mock involved.
 */
export async function injectInsertFailures(testDatabase: TestDatabase, every: number): Promise<void> {
  const client = await testDatabase.connect();
  try {
    await client.query('CREATE SEQUENCE chaos_attempts');
    await client.query(`
      CREATE FUNCTION chaos_fail() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF nextval('chaos_attempts') % ${every} = 0 THEN
          RAISE EXCEPTION 'injected transient failure' USING ERRCODE = '40001';
        END IF;
        RETURN NEW;
      END $$`);
    await client.query('CREATE TRIGGER chaos BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION chaos_fail()');
  } finally {
    await client.end();
  }
}

/** A Database whose server is not there (a closed loopback port, or `port` of a silent server), for outage paths. */
export async function unreachableDatabase(connectTimeoutMs: number, port = 9): Promise<Database> {
  const secrets = new SecretsManagerClient({});
  const secret = await secrets.send(
    new CreateSecretCommand({ Name: `db-unreachable-${Date.now()}-${Math.random().toString(16).slice(2)}`, SecretString: JSON.stringify({ username: 'nobody', password: 'none' }) }),
  );
  return new Database(
    { host: '127.0.0.1', port, database: 'none', secretArn: secret.ARN!, poolSize: 1, tls: false, connectTimeoutMs },
    secrets,
    silentLogger,
    { attempts: 1 },
  );
}

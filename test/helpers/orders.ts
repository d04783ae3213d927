import { SecretsManagerClient, CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { MIGRATIONS } from '../../lambda/migrate/migrations';
import { applyMigrations } from '../../lambda/migrate/migrator';
import { Database } from '../../lambda/shared/database';
import { acceptOrder } from '../../lambda/intake/intake';
import { documents, silentLogger } from './aws';
import { TestDatabase } from './database';

export { sqsEvent } from './sqs-event';

/**
 * The migrated schema in a test database, and a pooled Database for the handlers (no TLS on
 * loopback), connecting to the server's port or to `port` (a proxy in front of it).
 */
export async function migratedDatabase(testDatabase: TestDatabase, poolSize = 4, port = testDatabase.port): Promise<Database> {
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
  return new Database({ host: testDatabase.host, port, database: testDatabase.name, secretArn: secret.ARN!, poolSize, tls: false }, secrets, silentLogger, {
    attempts: 6,
    baseDelayMs: 5,
    maxDelayMs: 50,
  });
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
    new CreateSecretCommand({
      Name: `db-unreachable-${Date.now()}-${Math.random().toString(16).slice(2)}`,
      SecretString: JSON.stringify({ username: 'nobody', password: 'none' }),
    }),
  );
  return new Database({ host: '127.0.0.1', port, database: 'none', secretArn: secret.ARN!, poolSize: 1, tls: false, connectTimeoutMs }, secrets, silentLogger, {
    attempts: 1,
  });
}

/**
 * Accepts one order through intake into `journalTable` (moto_server) and returns the queue
 * message body intake wrote, as the processor will receive it.
 */
export async function journalOrder(journalTable: string, order: Record<string, unknown>): Promise<string> {
  const queued: string[] = [];
  const capturingQueue = { send: async (command: { input: { MessageBody: string } }) => queued.push(command.input.MessageBody) } as never;
  const response = await acceptOrder(JSON.stringify(order), false, {
    documents,
    sqs: capturingQueue,
    journalTable,
    queueUrl: 'unused',
    region: 'us-east-1',
    pendingShards: 4,
    maxBodyBytes: 4096,
    logger: silentLogger,
  });
  expect(response.statusCode).toBe(201);
  expect(queued).toHaveLength(1);
  return queued[0];
}

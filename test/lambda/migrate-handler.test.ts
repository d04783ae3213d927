import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { handler, migrate } from '../../lambda/migrate';
import { InvalidMigrationEventError, parseMigrationEvent } from '../../lambda/migrate/request';
import { createTestDatabase } from '../helpers/database';

const CHECKSUM = 'a'.repeat(64);

function properties(overrides: Record<string, unknown> = {}) {
  return {
    SecretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:db',
    Host: 'writer',
    Port: '5432',
    Database: 'trading',
    MigrationSetChecksum: CHECKSUM,
    ...overrides,
  };
}

describe('schema migration event', () => {
  it('turns Delete into a no-op that keeps the physical id', async () => {
    await expect(handler({ RequestType: 'Delete', PhysicalResourceId: 'writer/trading/schema', ResourceProperties: {} })).resolves.toEqual({
      PhysicalResourceId: 'writer/trading/schema',
    });
  });

  it("coerces CloudFormation's string port", () => {
    expect(parseMigrationEvent({ RequestType: 'Create', ResourceProperties: properties() })).toEqual({
      kind: 'migrate',
      properties: expect.objectContaining({ Port: 5432, Host: 'writer' }),
    });
  });

  it.each([
    ['an unknown request type', { RequestType: 'Upsert', ResourceProperties: properties() }, /RequestType/],
    ['no properties', { RequestType: 'Create' }, /ResourceProperties/],
    [
      'a missing secret',
      { RequestType: 'Create', ResourceProperties: properties({ SecretArn: '' }) },
      /ResourceProperties\.SecretArn: must name the database secret/,
    ],
    ['a bad port', { RequestType: 'Update', ResourceProperties: properties({ Port: 'abc' }) }, /ResourceProperties\.Port/],
    [
      'a bad database name',
      { RequestType: 'Create', ResourceProperties: properties({ Database: 'drop table' }) },
      /ResourceProperties\.Database: must be a PostgreSQL database name/,
    ],
  ])('refuses %s, naming the field', (_case, event, message) => {
    expect(() => parseMigrationEvent(event)).toThrow(InvalidMigrationEventError);
    expect(() => parseMigrationEvent(event)).toThrow(message);
  });
});

describe('schema migration against moto_server and PostgreSQL', () => {
  const secrets = new SecretsManagerClient({});

  it('reads the credentials from Secrets Manager and migrates the database', async () => {
    const database = await createTestDatabase('handler');
    try {
      const secret = await secrets.send(
        new CreateSecretCommand({ Name: `db-${database.name}`, SecretString: JSON.stringify({ username: 'postgres', password: 'unused-with-trust-auth' }) }),
      );
      const run = () =>
        migrate({ SecretArn: secret.ARN!, Host: database.host, Port: database.port, Database: database.name, MigrationSetChecksum: CHECKSUM }, { tls: false });
      await expect(run()).resolves.toEqual({ applied: ['0001_orders', '0002_fencing_and_conflicts', '0003_account_scoped_key'], skipped: [] });
      await expect(run()).resolves.toEqual({ applied: [], skipped: ['0001_orders', '0002_fencing_and_conflicts', '0003_account_scoped_key'] });
    } finally {
      await database.drop();
    }
  });

  it('says which secret is unusable', async () => {
    const secret = await secrets.send(new CreateSecretCommand({ Name: `db-no-password-${Date.now()}`, SecretString: JSON.stringify({ username: 'x' }) }));
    await expect(
      migrate({ SecretArn: secret.ARN!, Host: '127.0.0.1', Port: 1, Database: 'trading', MigrationSetChecksum: CHECKSUM }, { tls: false }),
    ).rejects.toThrow(`secret ${secret.ARN} lacks username or password`);
  });
});

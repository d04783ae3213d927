import { randomBytes, randomUUID } from 'crypto';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateDBClusterCommand,
  CreateDBClusterSnapshotCommand,
  CreateDBSubnetGroupCommand,
  DescribeDBClustersCommand,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  EnableHttpEndpointCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Client } from 'pg';
import { MIGRATIONS } from '../../lambda/migrate/migrations';
import { applyMigrations } from '../../lambda/migrate/migrator';
import type { RecoveryPointSummary } from '../../integ/restore-aurora';
import { dataApiRunner, expectedSchema, type SqlRunner } from '../../integ/restore-checks';
import { restoreNames, runRestoreDrill, type RestoreDrillDependencies } from '../../integ/restore-drill';
import { parseRestoreArgs, type RestoreOptions } from '../../integ/restore-options';
import { parseConfig } from '../../lib/core/config';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

/*
 * What answers what (each test repeats the part it relies on):
 * - moto_server (the jest global setup): RDS (subnet group, the source cluster and its security
 *   group, the copied recovery point's cluster snapshot, RestoreDBClusterFromSnapshot,
 *   RestoreDBClusterToPointInTime, CreateDBInstance, the deletions: moto refuses to delete a
 *   cluster that still has an instance, as RDS does), Secrets Manager (the database secret),
 *   DynamoDB (the journal, RestoreTableToPointInTime, the scans, DeleteTable) and the RDS Data
 *   API's ExecuteStatement with a queued answer (moto executes no SQL).
 * - Scripted, because moto 5.2.1 does not implement them: AWS Backup's
 *   ListRecoveryPointsByBackupVault (404 from moto: the fake `recoveryPoints` lists what a vault
 *   would hold) and RDS EnableHttpEndpoint (HTTP 500 from moto: the RDS client below answers it
 *   itself and records the ARN).
 * - The SQL the drill sends to the restored cluster runs on the loopback PostgreSQL (17.9, the
 *   migrations applied) instead of the Data API: the schema and order checks are real SQL.
 * moto restores a DynamoDB table with every item it holds now, whatever the time asked for.
 */

const REGION = 'us-east-2';
const ACCOUNT = '123456789012';
const rds = new RDSClient({ region: REGION });
const dynamodb = new DynamoDBClient({ region: REGION });
const secrets = new SecretsManagerClient({ region: REGION });

/** RDS against moto, except EnableHttpEndpoint, which moto 5.2.1 answers with HTTP 500: scripted here. */
function rdsWithScriptedHttpEndpoint(): { client: Pick<RDSClient, 'send'>; httpEndpointArns: string[] } {
  const httpEndpointArns: string[] = [];
  return {
    httpEndpointArns,
    client: {
      send: (async (command: { input: Record<string, unknown> }) => {
        if (command instanceof EnableHttpEndpointCommand) {
          httpEndpointArns.push(String(command.input.ResourceArn));
          return { ResourceArn: command.input.ResourceArn, HttpEndpointEnabled: true };
        }
        return rds.send(command as never);
      }) as RDSClient['send'],
    },
  };
}

/** SqlRunner over the loopback PostgreSQL: `:name` parameters become `$n`. */
function postgresRunner(client: Client, failOn?: RegExp): SqlRunner {
  return {
    query: async (sql, parameters = {}) => {
      if (failOn?.test(sql)) throw new Error(`injected failure of '${sql}'`);
      const values: string[] = [];
      const text = sql.replace(/(?<!:):([a-zA-Z_]\w*)/g, (_, name: string) => {
        values.push(parameters[name]);
        return `$${values.length}`;
      });
      return (await client.query(text, values)).rows;
    },
  };
}

/**
 * A subnet of moto's default VPC in REGION (moto refuses a subnet group of unknown subnets). The
 * project has no EC2 client, so this is EC2's query API sent to moto directly (moto reads the
 * region from the credential scope and checks no signature).
 */
async function defaultSubnet(): Promise<string> {
  const response = await fetch(process.env.AWS_ENDPOINT_URL!, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${REGION}/ec2/aws4_request, SignedHeaders=host, Signature=unchecked`,
    },
    body: 'Action=DescribeSubnets&Version=2016-11-15',
  });
  const subnet = /<subnetId>(subnet-[0-9a-f]+)<\/subnetId>/.exec(await response.text())?.[1];
  if (!subnet) throw new Error(`moto listed no default subnet in ${REGION}`);
  return subnet;
}

interface World {
  readonly env: string;
  readonly names: ReturnType<typeof restoreNames>;
  readonly snapshotArn: string;
  readonly secretArn: string;
  readonly database: TestDatabase;
  readonly sqlClient: Client;
  /** Order ids applied before the recovery point (in the journal and in PostgreSQL). */
  readonly appliedBefore: string[];
  readonly cutoff: Date;
}

const worlds: World[] = [];
afterAll(async () => {
  for (const world of worlds) {
    await world.sqlClient.end();
    await world.database.drop();
  }
});

async function journalEntry(table: string, orderId: string, acceptedAt: Date, appliedAt?: Date): Promise<void> {
  await dynamodb.send(
    new PutItemCommand({
      TableName: table,
      Item: {
        orderKey: { S: `acct-1/c-${orderId}` },
        orderId: { S: orderId },
        acceptedAt: { S: acceptedAt.toISOString() },
        ...(appliedAt ? { appliedAt: { S: appliedAt.toISOString() } } : {}),
      },
    }),
  );
}

async function insertOrder(client: Client, orderId: string, acceptedAt: Date): Promise<void> {
  await client.query(
    `INSERT INTO orders (order_id, client_order_id, account_id, symbol, side, order_type, quantity, accepted_at, accepted_region, fencing_epoch)
     VALUES ($1, $2, 'acct-1', 'ACME', 'buy', 'market', 1, $3, 'us-east-1', 1)`,
    [orderId, `c-${orderId}`, acceptedAt],
  );
}

/**
 * A deployed environment in moto: subnet group, source cluster, a copied recovery point's snapshot,
 * the database secret and the journal; PostgreSQL holds what the restored cluster would.
 */
async function world(): Promise<World> {
  const env = `r${randomBytes(4).toString('hex')}`;
  const names = restoreNames({ appName: 'trading-dr', environmentSuffix: env, region: REGION }, ACCOUNT);
  await rds.send(
    new CreateDBSubnetGroupCommand({ DBSubnetGroupName: names.subnetGroup, DBSubnetGroupDescription: 'data', SubnetIds: [await defaultSubnet()] }),
  );
  await rds.send(
    new CreateDBClusterCommand({
      DBClusterIdentifier: names.sourceCluster,
      Engine: 'aurora-postgresql',
      EngineVersion: parseConfig({}).auroraEngineVersion,
      MasterUsername: 'trading_admin',
      MasterUserPassword: 'not-a-real-password',
      DBSubnetGroupName: names.subnetGroup,
      VpcSecurityGroupIds: ['sg-0database0000001'],
    }),
  );
  const snapshot = await rds.send(
    new CreateDBClusterSnapshotCommand({ DBClusterIdentifier: names.sourceCluster, DBClusterSnapshotIdentifier: `awsbackup:copyjob-${env}` }),
  );
  const secret = await secrets.send(
    new CreateSecretCommand({ Name: names.secret, SecretString: JSON.stringify({ username: 'trading_admin', password: 'x' }) }),
  );
  await dynamodb.send(
    new CreateTableCommand({
      TableName: names.journalTable,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'orderKey', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'orderKey', KeyType: 'HASH' }],
    }),
  );
  const database = await createTestDatabase('restore');
  const sqlClient = await database.connect();
  await applyMigrations(sqlClient, MIGRATIONS);
  const cutoff = new Date(Date.now() - 10 * 60_000);
  const minutesBefore = (minutes: number): Date => new Date(cutoff.getTime() - minutes * 60_000);
  const appliedBefore: string[] = [];
  for (let index = 0; index < 5; index++) {
    const orderId = randomUUID();
    appliedBefore.push(orderId);
    await journalEntry(names.journalTable, orderId, minutesBefore(20 - index), minutesBefore(19 - index));
    await insertOrder(sqlClient, orderId, minutesBefore(20 - index));
  }
  // Applied after the recovery point (not required in it), and one never applied.
  await journalEntry(names.journalTable, randomUUID(), minutesBefore(3), new Date(cutoff.getTime() + 60_000));
  await journalEntry(names.journalTable, randomUUID(), minutesBefore(2));
  const made: World = {
    env,
    names,
    snapshotArn: snapshot.DBClusterSnapshot!.DBClusterSnapshotArn!,
    secretArn: secret.ARN!,
    database,
    sqlClient,
    appliedBefore,
    cutoff,
  };
  worlds.push(made);
  return made;
}

function copiedPoint(w: World, overrides: Partial<RecoveryPointSummary> = {}): RecoveryPointSummary {
  return {
    recoveryPointArn: w.snapshotArn,
    creationDate: w.cutoff,
    sourceBackupVaultArn: `arn:aws:backup:us-east-1:${ACCOUNT}:backup-vault:vault-backup-${w.env}`,
    status: 'COMPLETED',
    ...overrides,
  };
}

function options(w: World, overrides: Partial<RestoreOptions> = {}): RestoreOptions {
  return {
    appName: 'trading-dr',
    environmentSuffix: w.env,
    account: ACCOUNT,
    region: REGION,
    otherRegion: 'us-east-1',
    restoreTargetMinutes: 120,
    instanceClass: 'db.r6g.large',
    timeoutMs: 60 * 60_000,
    pollMs: 1000,
    ...overrides,
  };
}

/** Dependencies on a fake clock that moves only when the drill sleeps. */
function deps(
  w: World,
  points: RecoveryPointSummary[],
  sql: SqlRunner = postgresRunner(w.sqlClient),
): RestoreDrillDependencies & { lines: string[]; httpEndpointArns: string[]; sqlTargets: unknown[] } {
  let clock = Date.now();
  const lines: string[] = [];
  const sqlTargets: unknown[] = [];
  const scripted = rdsWithScriptedHttpEndpoint();
  return {
    rds: scripted.client,
    recoveryPoints: { listAurora: async (vault) => (vault === w.names.vault ? points : []) },
    secrets,
    dynamodb,
    sqlFor: (target) => {
      sqlTargets.push(target);
      return sql;
    },
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
    print: (line) => lines.push(line),
    lines,
    httpEndpointArns: scripted.httpEndpointArns,
    sqlTargets,
  };
}

async function clusterGone(identifier: string): Promise<boolean> {
  try {
    await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: identifier }));
    return false;
  } catch (error) {
    return (error as Error).name === 'DBClusterNotFoundFault';
  }
}

async function instanceGone(identifier: string): Promise<boolean> {
  try {
    await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier }));
    return false;
  } catch (error) {
    return (error as Error).name === 'DBInstanceNotFoundFault';
  }
}

async function tableGone(table: string): Promise<boolean> {
  try {
    await dynamodb.send(new DescribeTableCommand({ TableName: table }));
    return false;
  } catch (error) {
    return (error as Error).name === 'ResourceNotFoundException';
  }
}

describe('the restore drill', () => {
  test('restores the newest copied recovery point, finds every applied order, and deletes the scratch cluster and table', async () => {
    // moto: RDS restore, instance, deletion, secret, DynamoDB. Scripted: the vault's listing, EnableHttpEndpoint. SQL: PostgreSQL.
    const w = await world();
    const older = copiedPoint(w, {
      recoveryPointArn: `arn:aws:rds:${REGION}:${ACCOUNT}:cluster-snapshot:awsbackup:older`,
      creationDate: new Date(w.cutoff.getTime() - 3_600_000),
    });
    const localNewer = copiedPoint(w, {
      sourceBackupVaultArn: undefined,
      recoveryPointArn: `arn:aws:rds:${REGION}:${ACCOUNT}:cluster-snapshot:awsbackup:local`,
      creationDate: new Date(),
    });
    const d = deps(w, [older, copiedPoint(w), localNewer]);
    const result = await runRestoreDrill(options(w), d);
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.details.source).toEqual({ kind: 'recovery-point', recoveryPointArn: w.snapshotArn, time: w.cutoff.toISOString() });
    expect(result.figures).toMatchObject({ restoredOrders: 5, journalAppliedBeforePoint: 5, missingOrders: 0, journalItemsRestored: 7 });
    // moto makes a restored cluster and its instance available at once, and the clock moves only when the drill sleeps.
    expect(result.figures.auroraRestoreMinutes).toBe(0);
    const clusterArn = `arn:aws:rds:${REGION}:${ACCOUNT}:cluster:${w.names.scratchCluster}`;
    expect(d.httpEndpointArns).toEqual([clusterArn]);
    expect(d.sqlTargets).toEqual([{ resourceArn: clusterArn, secretArn: w.secretArn, database: 'trading' }]);
    expect(await instanceGone(w.names.scratchInstance)).toBe(true);
    expect(await clusterGone(w.names.scratchCluster)).toBe(true);
    expect(await clusterGone(w.names.sourceCluster)).toBe(false);
    expect(await tableGone(w.names.scratchTable)).toBe(true);
    const printed = d.lines.join('\n');
    expect(printed).toContain(`scratch cluster ${w.names.scratchCluster}: available`);
    expect(printed).toMatch(/of them missing from the restore\s+0\s+0\s+ok/);
    expect(printed).toContain('restore drill passed');
  });

  test('lists the orders the journal marked applied before the point that the restore lacks, and still deletes', async () => {
    // moto: RDS, DynamoDB, secret. Scripted: vault listing, EnableHttpEndpoint. SQL: PostgreSQL with two orders deleted.
    const w = await world();
    const lost = w.appliedBefore.slice(1, 3);
    await w.sqlClient.query('DELETE FROM orders WHERE order_id = ANY($1::uuid[])', [lost]);
    const d = deps(w, [copiedPoint(w)]);
    const result = await runRestoreDrill(options(w), d);
    expect(result.ok).toBe(false);
    expect(result.figures).toMatchObject({ restoredOrders: 3, journalAppliedBeforePoint: 5, missingOrders: 2 });
    expect(result.details.missingOrders.map((entry) => entry.orderId)).toEqual(lost);
    expect(result.problems).toEqual([
      `2 order(s) the journal marked applied before ${w.cutoff.toISOString()} are missing from the restored orders table: ${lost[0]} (acct-1/c-${lost[0]}), ${lost[1]} (acct-1/c-${lost[1]})`,
    ]);
    expect(d.lines.join('\n')).toMatch(/of them missing from the restore\s+2\s+0\s+MISSING/);
    expect(await clusterGone(w.names.scratchCluster)).toBe(true);
  });

  test('a restore slower than restoreTargetMinutes fails the drill, naming the figure and the target', async () => {
    // moto: RDS, DynamoDB. Scripted: vault listing, EnableHttpEndpoint, and a writer that refuses SQL three times
    // (PostgreSQL behind it). Polls back off 1, 2, 4, 4 minutes... on the fake clock: it answers 7 minutes in.
    const w = await world();
    const real = postgresRunner(w.sqlClient);
    let refusals = 3;
    const slowWriter: SqlRunner = {
      query: async (sql, parameters) => {
        if (sql === 'SELECT 1 AS answer' && refusals-- > 0) throw new Error('DatabaseNotFoundException: the writer is starting');
        return real.query(sql, parameters);
      },
    };
    const d = deps(w, [copiedPoint(w)], slowWriter);
    const result = await runRestoreDrill(options(w, { restoreTargetMinutes: 5, pollMs: 60_000 }), d);
    expect(result.figures.auroraRestoreMinutes).toBe(7);
    expect(result.problems).toEqual(['Aurora restore took 7 min (start -> cluster answers), over the target restoreTargetMinutes 5 min']);
    expect(d.lines).toContain(
      `scratch cluster ${w.names.scratchCluster} over the Data API: not answering yet (DatabaseNotFoundException: the writer is starting)`,
    );
    expect(d.lines.join('\n')).toMatch(/Aurora restore \(start -> answers SQL\)\s+7 min\s+5 min\s+OVER/);
  });

  test('deletes the instance and the cluster after a check fails, and says so', async () => {
    // moto: RDS (deletion order enforced), DynamoDB. Scripted: vault listing, EnableHttpEndpoint. SQL: PostgreSQL failing the order count.
    const w = await world();
    const d = deps(w, [copiedPoint(w)], postgresRunner(w.sqlClient, /count\(\*\)/));
    const result = await runRestoreDrill(options(w), d);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([expect.stringContaining("Aurora restore drill failed: injected failure of 'SELECT count(*) AS count FROM orders'")]);
    expect(d.lines).toContain(`deleting scratch cluster ${w.names.scratchCluster} (after a failure)`);
    expect(await instanceGone(w.names.scratchInstance)).toBe(true);
    expect(await clusterGone(w.names.scratchCluster)).toBe(true);
  });

  test('waits out an instance RDS calls busy and still deletes it, then the cluster', async () => {
    // moto: RDS, DynamoDB. Scripted: vault listing, EnableHttpEndpoint, and the first DeleteDBInstance refused as
    // InvalidDBInstanceStateFault (an instance still being created when a drill gives up). SQL: PostgreSQL.
    const w = await world();
    const d = deps(w, [copiedPoint(w)]);
    let refusals = 1;
    const rdsBusyOnce: Pick<RDSClient, 'send'> = {
      send: (async (command: object) => {
        if (command instanceof DeleteDBInstanceCommand && refusals-- > 0) {
          throw Object.assign(new Error('Instance is not in available state'), { name: 'InvalidDBInstanceStateFault' });
        }
        return d.rds.send(command as never);
      }) as RDSClient['send'],
    };
    const result = await runRestoreDrill(options(w), { ...d, rds: rdsBusyOnce });
    expect(result.problems).toEqual([]);
    expect(d.lines).toContain(`delete instance ${w.names.scratchInstance}: busy (Instance is not in available state)`);
    expect(await instanceGone(w.names.scratchInstance)).toBe(true);
    expect(await clusterGone(w.names.scratchCluster)).toBe(true);
  });

  test('reports a missing table of the migrations', async () => {
    // moto: RDS, DynamoDB. Scripted: vault listing, EnableHttpEndpoint. SQL: PostgreSQL without order_conflicts.
    const w = await world();
    await w.sqlClient.query('DROP TABLE order_conflicts');
    const result = await runRestoreDrill(options(w), deps(w, [copiedPoint(w)]));
    expect(result.problems).toEqual(['the restored database lacks table(s) order_conflicts']);
  });

  test('without a copied recovery point it restores no cluster, says why, and still restores the journal', async () => {
    // Scripted: a vault holding only its own region's recovery point. moto: DynamoDB.
    const w = await world();
    const d = deps(w, [copiedPoint(w, { sourceBackupVaultArn: undefined })]);
    const result = await runRestoreDrill(options(w), d);
    expect(result.problems).toEqual([
      `Aurora restore not started: vault ${w.names.vault} in ${REGION} holds no completed Aurora recovery point copied from another region (1 Aurora recovery point(s) in all)`,
    ]);
    expect(result.details.scratchCluster).toBeNull();
    expect(d.httpEndpointArns).toEqual([]);
    expect(result.figures.journalItemsRestored).toBe(7);
    expect(await tableGone(w.names.scratchTable)).toBe(true);
  });

  test('--point-in-time restores the region’s own cluster to that time and checks the orders applied before it', async () => {
    // moto: RestoreDBClusterToPointInTime, DynamoDB. Scripted: EnableHttpEndpoint (the vault is not read). SQL: PostgreSQL.
    const w = await world();
    const d = deps(w, []);
    const result = await runRestoreDrill(options(w, { pointInTime: w.cutoff }), d);
    expect(result.problems).toEqual([]);
    expect(result.details.source).toEqual({ kind: 'point-in-time', time: w.cutoff.toISOString() });
    expect(d.lines).toContain(`restoring ${w.names.scratchCluster} from ${w.names.sourceCluster} at ${w.cutoff.toISOString()}`);
    expect(await clusterGone(w.names.scratchCluster)).toBe(true);
  });

  test('a restored journal holding entries accepted after the point fails the count check', async () => {
    // moto restores every item the table holds now: two accepted an hour after the point stand for a restore that holds too much.
    const w = await world();
    await journalEntry(w.names.journalTable, randomUUID(), new Date(w.cutoff.getTime() + 3_600_000));
    await journalEntry(w.names.journalTable, randomUUID(), new Date(w.cutoff.getTime() + 3_600_000));
    const result = await runRestoreDrill(options(w), deps(w, [copiedPoint(w)]));
    expect(result.details.journalItemsExpected).toEqual({ low: 7, high: 7 });
    expect(result.problems).toEqual([
      `the journal restored to ${w.cutoff.toISOString()} holds 9 item(s); the source has 7 accepted before 30 s earlier and 7 before 30 s later`,
    ]);
  });
});

describe('the Data API runner', () => {
  test('sends the statement with its parameters and reads the JSON records (moto rds-data, a queued answer)', async () => {
    // moto's rds-data executes no SQL: it answers each new (resource, SQL) pair with the next queued result.
    const endpoint = process.env.AWS_ENDPOINT_URL!;
    const queued = await fetch(`${endpoint}/moto-api/static/rds-data/statement-results`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ region: REGION, results: [{ formattedRecords: JSON.stringify([{ order_id: 'a' }, { order_id: 'b' }]) }] }),
    });
    expect(queued.status).toBe(201);
    const runner = dataApiRunner(new RDSDataClient({ region: REGION }), {
      resourceArn: `arn:aws:rds:${REGION}:${ACCOUNT}:cluster:aurora-restore-drill-use2-${randomBytes(3).toString('hex')}`,
      secretArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:x`,
      database: 'trading',
    });
    expect(await runner.query("SELECT order_id FROM orders WHERE order_id = ANY(string_to_array(:ids, ',')::uuid[])", { ids: 'a,b' })).toEqual([
      { order_id: 'a' },
      { order_id: 'b' },
    ]);
  });
});

describe('expectedSchema', () => {
  test('reads the tables and versions from the migrations', () => {
    expect(expectedSchema()).toEqual({
      tables: ['fencing_epoch', 'order_conflicts', 'orders', 'schema_migrations'],
      versions: MIGRATIONS.map((migration) => migration.version),
    });
  });
});

describe('parseRestoreArgs', () => {
  const now = new Date('2026-11-25T15:00:00Z');

  test('defaults: the secondary region, config restoreTargetMinutes, twice that to give up', () => {
    const parsed = parseRestoreArgs(['--env', 'test'], now);
    expect(parsed).toMatchObject({
      region: 'us-east-2',
      otherRegion: 'us-east-1',
      restoreTargetMinutes: parseConfig({}).restoreTargetMinutes,
      instanceClass: 'db.r6g.large',
    });
    expect(parsed.timeoutMs).toBe(parseConfig({}).restoreTargetMinutes * 2 * 60_000);
    expect(parsed.pointInTime).toBeUndefined();
  });

  test('every option', () => {
    expect(
      parseRestoreArgs(
        [
          '--env',
          'dev1',
          '--region',
          'us-east-1',
          '--point-in-time',
          '2026-11-25T14:00:00Z',
          '--restore-target-minutes',
          '30',
          '--instance-class',
          'db.r7g.xlarge',
        ],
        now,
      ),
    ).toMatchObject({
      region: 'us-east-1',
      otherRegion: 'us-east-2',
      pointInTime: new Date('2026-11-25T14:00:00Z'),
      restoreTargetMinutes: 30,
      instanceClass: 'db.r7g.xlarge',
    });
  });

  test.each([
    [[], '--env <suffix> is required'],
    [['--env', 'test', '--region', 'eu-west-1'], "--region must be one of us-east-1, us-east-2, not 'eu-west-1'"],
    [
      ['--env', 'test', '--point-in-time', '2026-11-25 14:00'],
      "--point-in-time must be an ISO time with a zone, such as 2026-11-25T14:00:00Z, not '2026-11-25 14:00'",
    ],
    [['--env', 'test', '--point-in-time', '2026-11-26T00:00:00Z'], "--point-in-time must be in the past, not '2026-11-26T00:00:00Z'"],
    [['--env', 'test', '--restore-target-minutes', '0'], "--restore-target-minutes must be a positive whole number of minutes, not '0'"],
    [['--env', 'test', '--instance-class', 'db.t4g.medium'], "--instance-class must be a memory-optimized class such as db.r6g.large, not 'db.t4g.medium'"],
    [['--env', 'test', '--target', 'us-east-2'], "unknown argument '--target'"],
  ])('%j is a usage error: %s', (argv, message) => {
    expect(() => parseRestoreArgs(argv as string[], now)).toThrow(message);
  });
});

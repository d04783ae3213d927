import * as net from 'net';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { checkHealth, HealthDependencies } from '../../lambda/health/checks';
import { Database } from '../../lambda/shared/database';
import { ControlTableSchema } from '../../lambda/contracts/tables';
import { createControlTable, createJournalTable, documents, silentLogger } from '../helpers/aws';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { unreachableDatabase, migratedDatabase } from '../helpers/orders';

describe('deep health against PostgreSQL and moto_server', () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let deps: HealthDependencies;

  beforeAll(async () => {
    testDatabase = await createTestDatabase('health');
    database = await migratedDatabase(testDatabase, 1);
  });

  afterAll(async () => {
    await database.end();
    await testDatabase.drop();
  });

  beforeEach(async () => {
    const [journalTable, controlTable] = await Promise.all([createJournalTable(), createControlTable()]);
    deps = { database, documents, journalTable, controlTable, region: 'us-east-1', primaryRegion: 'us-east-1', checkTimeoutMs: 1500, logger: silentLogger };
  });

  const setControl = (activeRegion: string, drainedRegions: string[] = []) =>
    documents.send(
      new PutCommand({
        TableName: deps.controlTable,
        Item: {
          [ControlTableSchema.pk]: ControlTableSchema.activeRegionItem,
          [ControlTableSchema.activeRegion]: activeRegion,
          [ControlTableSchema.fencingEpoch]: 3,
          ...(drainedRegions.length ? { [ControlTableSchema.drainedRegions]: new Set(drainedRegions) } : {}),
        },
      }),
    );

  it('answers 200 with every check when the region can serve', async () => {
    const response = await checkHealth(deps);
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({
      status: 'ok',
      region: 'us-east-1',
      checks: [
        { name: 'database', ok: true, detail: 'writer reachable' },
        { name: 'journal', ok: true, detail: 'readable' },
        { name: 'control', ok: true, detail: 'active, epoch 0' },
      ],
    });
  });

  it('stays healthy as a standby region, so Route 53 can fail over to it', async () => {
    await setControl('us-east-2');
    const response = await checkHealth(deps);
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body).checks[2]).toMatchObject({ name: 'control', ok: true, detail: 'standby, active region us-east-2' });
  });

  it('answers 503 naming the control check when the region is drained', async () => {
    await setControl('us-east-2', ['us-east-1']);
    const response = await checkHealth(deps);
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body)).toMatchObject({ status: 'unavailable', failing: ['control'] });
  });

  it('answers 503 naming the journal when it cannot be read', async () => {
    const response = await checkHealth({ ...deps, journalTable: 'missing-table' });
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body).failing).toEqual(['journal']);
  });

  it('answers 503 naming the database when it refuses connections', async () => {
    const unreachable = await unreachableDatabase(300);
    const response = await checkHealth({ ...deps, database: unreachable });
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body).failing).toEqual(['database']);
    await unreachable.end();
  });

  it('answers within the check timeout when the database hangs', async () => {
    // A server that accepts connections and never answers: the worst case for a health check.
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    const hanging = await unreachableDatabase(10_000, port);
    try {
      const started = Date.now();
      const response = await checkHealth({ ...deps, database: hanging, checkTimeoutMs: 1000 });
      const elapsed = Date.now() - started;
      expect(response.statusCode).toBe(503);
      const body = JSON.parse(response.body);
      expect(body.failing).toEqual(['database']);
      expect(body.checks[0].detail).toBe('no answer within 1000 ms');
      // The answer comes at the timeout, not at the 10 s connection timeout.
      expect(elapsed).toBeLessThan(5000);
    } finally {
      sockets.forEach((socket) => socket.destroy());
      silent.close();
      await hanging.end().catch(() => undefined);
    }
  });
});

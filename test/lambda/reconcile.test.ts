import { BatchGetCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { NotActiveRegionError, reconcileJournal, ReconcileDependencies } from '../../lambda/reconcile/reconcile';
import { Database } from '../../lambda/shared/database';
import { AcceptedOrder, AcceptedOrderSchema, orderKeyOf } from '../../lambda/shared/order';
import { commitOrders, markJournalCommitted, StaleEpochError } from '../../lambda/shared/order-store';
import { ControlTableSchema, OrderJournalSchema } from '../../lambda/contracts/tables';
import { createControlTable, createJournalTable, documents, scanAll, silentLogger } from '../helpers/aws';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { installGlobalDbStatus, RunStatement, setGlobalDbStatus } from '../helpers/global-db-status';
import { journalOrder, migratedDatabase } from '../helpers/orders';

/**
 * Journal reconciliation after a failover, against the loopback PostgreSQL (the orders table)
 * and moto_server (the journal with its pending index, the control table). The journal entries
 * are written by the real intake (test/helpers/orders.ts), which accepts them in us-east-1 over
 * four pending shards; reconciliation runs in us-east-2, the region the failover made active.
 */

const REGION = 'us-east-2';
const PRIMARY = 'us-east-1';
const SHARDS = 4;
const DURABLE_AFTER_MS = 300_000;
const REPLICATION_MARGIN_MS = 5000;
/** A run's figures with nothing done. */
const NOTHING = {
  active: true,
  applied: 0,
  durable: 0,
  awaitingReplication: 0,
  conflicts: 0,
  overdue: 0,
  unreadable: [],
  skipped: 0,
  notCommitted: 0,
  complete: true,
};

describe('journal reconciliation against PostgreSQL and moto_server', () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let deps: ReconcileDependencies;

  beforeAll(async () => {
    testDatabase = await createTestDatabase('reconcile');
    database = await migratedDatabase(testDatabase);
    await installGlobalDbStatus(run);
  });

  const run: RunStatement = (sql, params) => database.query('global database status', sql, params);
  /** The writer's status (us-east-2 after the failover): its secondary, us-east-1, has everything the writer had `lagMs` before `at`. */
  const secondaryTrails = (lagMs: number, at: Date) => setGlobalDbStatus(run, REGION, [{ region: PRIMARY, rpoLagMs: lagMs, calculatedAt: at }]);

  afterAll(async () => {
    await database.end();
    await testDatabase.drop();
  });

  beforeEach(async () => {
    await database.query('empty orders', 'TRUNCATE orders, order_conflicts');
    await database.query('reset the fencing epoch', 'UPDATE fencing_epoch SET epoch = 0');
    // The secondary has everything, as of any time the tests move the clock to.
    await secondaryTrails(0, new Date(Date.now() + 86_400_000));
    const [journalTable, controlTable] = await Promise.all([createJournalTable(), createControlTable()]);
    deps = {
      database,
      documents,
      journalTable,
      controlTable,
      region: REGION,
      primaryRegion: PRIMARY,
      logger: silentLogger,
      pendingShards: SHARDS,
      pageSize: 3,
      remainingMs: () => 60_000,
      reserveMs: 1000,
      durableAfterMs: DURABLE_AFTER_MS,
      replicationMarginMs: REPLICATION_MARGIN_MS,
      boundMs: 120_000,
      trigger: 'failover',
    };
  });

  /** The same run, `ms` later (entries whose order has been in the writer long enough become durable). */
  const later = (ms: number): ReconcileDependencies => ({ ...deps, now: () => new Date(Date.now() + ms) });

  async function setControl(activeRegion: string, fencingEpoch: number): Promise<void> {
    await documents.send(
      new PutCommand({
        TableName: deps.controlTable,
        Item: {
          [ControlTableSchema.pk]: ControlTableSchema.activeRegionItem,
          [ControlTableSchema.activeRegion]: activeRegion,
          [ControlTableSchema.fencingEpoch]: fencingEpoch,
        },
      }),
    );
  }

  /** Accepts `count` orders through intake; their journal entries are pending. */
  async function journalOrders(count: number, prefix = 'c'): Promise<AcceptedOrder[]> {
    const orders: AcceptedOrder[] = [];
    for (let index = 0; index < count; index++) {
      const body = await journalOrder(deps.journalTable, {
        clientOrderId: `${prefix}-${index}`,
        accountId: 'acct-1',
        symbol: 'MSFT',
        side: 'buy',
        orderType: 'limit',
        quantity: `${index + 1}`,
        limitPrice: '412.5',
      });
      orders.push(AcceptedOrderSchema.parse(JSON.parse(body)));
    }
    return orders;
  }

  /** Client order ids in the pending index, per shard. */
  async function pendingByShard(): Promise<Record<string, string[]>> {
    const pending: Record<string, string[]> = {};
    for (let shard = 0; shard < SHARDS; shard++) {
      const items: Record<string, unknown>[] = [];
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await documents.send(
          new QueryCommand({
            TableName: deps.journalTable,
            IndexName: OrderJournalSchema.pendingIndex,
            KeyConditionExpression: '#shard = :shard',
            ExpressionAttributeNames: { '#shard': OrderJournalSchema.pendingShard },
            ExpressionAttributeValues: { ':shard': `p#${shard}` },
            ExclusiveStartKey,
          }),
        );
        items.push(...(page.Items ?? []));
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      pending[`p#${shard}`] = items.map((item) => String(item.clientOrderId)).sort();
    }
    return pending;
  }

  async function pendingIds(): Promise<string[]> {
    return Object.values(await pendingByShard())
      .flat()
      .sort();
  }

  async function rows(): Promise<{ order_id: string; client_order_id: string; fencing_epoch: number; accepted_region: string; quantity: string }[]> {
    return database.query(
      'orders',
      'SELECT order_id, client_order_id, fencing_epoch::int AS fencing_epoch, accepted_region, quantity::text AS quantity FROM orders ORDER BY client_order_id',
    );
  }

  it('refuses to run in a region that is not active, naming the active region and epoch', async () => {
    await setControl(PRIMARY, 2);
    await journalOrders(2);
    const attempt = reconcileJournal(deps);
    await expect(attempt).rejects.toThrow(NotActiveRegionError);
    await expect(attempt).rejects.toThrow(
      `region ${REGION} is not active (active region ${PRIMARY}, epoch 2): reconciliation commits only in the active region`,
    );
    expect(await rows()).toEqual([]);
    expect(await pendingIds()).toEqual(['c-0', 'c-1']);
  });

  it('refuses in the secondary before any failover is recorded (the primary is active at epoch 0)', async () => {
    await expect(reconcileJournal(deps)).rejects.toThrow(`region ${REGION} is not active (active region ${PRIMARY}, epoch 0)`);
  });

  it('does nothing, without an error, when the schedule runs it in the standby region', async () => {
    await setControl(PRIMARY, 2);
    await journalOrders(2);
    expect(await reconcileJournal({ ...deps, trigger: 'schedule' })).toEqual({ ...NOTHING, active: false, fencingEpoch: 2 });
    expect(await rows()).toEqual([]);
  });

  it('applies every pending entry of every shard, over many pages, under the current epoch, and a second run applies nothing', async () => {
    await setControl(REGION, 3);
    const orders = await journalOrders(22);
    const before = await pendingByShard();
    // More entries than a page in some shard, and entries in every shard: pagination and the shard loop both matter.
    expect(Math.max(...Object.values(before).map((ids) => ids.length))).toBeGreaterThan(deps.pageSize);
    expect(Object.values(before).every((ids) => ids.length > 0)).toBe(true);

    const result = await reconcileJournal(deps);
    expect(result).toEqual({ ...NOTHING, applied: 22, fencingEpoch: 3 });
    // In the writer, recorded, and still pending until they have had time to replicate.
    expect(await pendingIds()).toHaveLength(22);

    const committed = await rows();
    expect(committed).toHaveLength(22);
    const byClientId = new Map(committed.map((row) => [row.client_order_id, row]));
    for (const order of orders) {
      expect(byClientId.get(order.clientOrderId)).toEqual({
        order_id: order.orderId,
        client_order_id: order.clientOrderId,
        fencing_epoch: 3,
        accepted_region: PRIMARY,
        quantity: `${Number(order.quantity).toFixed(8)}`,
      });
    }
    const journal = await scanAll(deps.journalTable);
    expect(journal).toHaveLength(22);
    for (const entry of journal) {
      expect(entry.appliedRegion).toBe(REGION);
      expect(entry.appliedEpoch).toBe(3);
      expect(typeof entry.appliedAt).toBe('string');
    }

    // Too soon to be durable: nothing to do.
    expect(await reconcileJournal(deps)).toEqual({ ...NOTHING, fencingEpoch: 3 });
    // Once they have been in the writer for durableAfterMs, they leave the pending index.
    expect(await reconcileJournal(later(DURABLE_AFTER_MS))).toEqual({ ...NOTHING, durable: 22, fencingEpoch: 3 });
    expect(await pendingIds()).toEqual([]);
    expect(await rows()).toHaveLength(22);
  });

  it('reads a page of more entries than one BatchGetItem takes (100)', async () => {
    await setControl(REGION, 1);
    // 105 entries in one shard, so one page of 120 holds them all.
    for (const order of await journalOrders(105)) {
      await documents.send(
        new PutCommand({
          TableName: deps.journalTable,
          Item: { ...order, [OrderJournalSchema.orderKey]: orderKeyOf(order), [OrderJournalSchema.pendingShard]: 'p#0' },
        }),
      );
    }
    // moto_server answers any number of keys; DynamoDB refuses more than 100 per request (API
    // reference, BatchGetItem: "A single operation can retrieve up to 16 MB of data, which can
    // contain as many as 100 items"), so this client does too.
    const strict = {
      send: (command: { input: { RequestItems?: Record<string, { Keys: unknown[] }> } }) => {
        const requested = Object.values(command.input.RequestItems ?? {}).reduce((sum, each) => sum + (each.Keys?.length ?? 0), 0);
        if (command instanceof BatchGetCommand && requested > 100)
          return Promise.reject(new Error(`Too many items requested for the BatchGetItem call (${requested})`));
        return documents.send(command as never);
      },
    } as unknown as typeof documents;
    expect(await reconcileJournal({ ...deps, documents: strict, pageSize: 120 })).toMatchObject({ applied: 105, complete: true });
  });

  it('reads and looks up only entries that need something: none committed in this epoch until they are due to be durable', async () => {
    await setControl(REGION, 1);
    await journalOrders(6);
    expect(await reconcileJournal(deps)).toMatchObject({ applied: 6 });
    const sent: string[] = [];
    const counting = { send: (command: object) => (sent.push(command.constructor.name), documents.send(command as never)) } as unknown as typeof documents;
    const queries: string[] = [];
    const countingDatabase = Object.assign(Object.create(database) as Database, {
      query: (operation: string, ...rest: unknown[]) => (
        queries.push(operation),
        (database.query as (...args: unknown[]) => Promise<unknown>).call(database, operation, ...rest)
      ),
    });
    expect(await reconcileJournal({ ...deps, documents: counting, database: countingDatabase })).toEqual({ ...NOTHING, fencingEpoch: 1 });
    expect(sent.filter((name) => name !== 'QueryCommand' && name !== 'GetCommand')).toEqual([]);
    expect(queries).toEqual([]);
    // Once due, each is read, found in the writer and taken out of the index.
    expect(await reconcileJournal(later(DURABLE_AFTER_MS))).toMatchObject({ durable: 6 });
  });

  it('keeps an entry pending, however long it has been in the writer, until the writer shows it in the secondary', async () => {
    await setControl(REGION, 1);
    await journalOrders(3);
    const appliedBy = Date.now();
    expect(await reconcileJournal(deps)).toMatchObject({ applied: 3 });
    const afterApply = Date.now();
    // The secondary trails by 10 minutes, more than the 5 the entries have been in the writer:
    // a failover now allowing data loss would drop them, so they stay pending.
    const due = later(DURABLE_AFTER_MS);
    await secondaryTrails(600_000, new Date(afterApply + DURABLE_AFTER_MS));
    expect(await reconcileJournal(due)).toEqual({ ...NOTHING, awaitingReplication: 3, fencingEpoch: 1 });
    // Caught up to just short of the entries (the margin not yet past): still pending.
    await secondaryTrails(0, new Date(appliedBy + REPLICATION_MARGIN_MS - 1));
    expect(await reconcileJournal(due)).toEqual({ ...NOTHING, awaitingReplication: 3, fencingEpoch: 1 });
    // Past them by the margin: they leave the index.
    await secondaryTrails(0, new Date(afterApply + REPLICATION_MARGIN_MS));
    expect(await reconcileJournal(due)).toEqual({ ...NOTHING, durable: 3, fencingEpoch: 1 });
    expect(await pendingIds()).toEqual([]);
  });

  it('keeps entries pending while the replication status cannot be read, and takes them out with no secondary at all', async () => {
    await setControl(REGION, 1);
    await journalOrders(2);
    expect(await reconcileJournal(deps)).toMatchObject({ applied: 2 });
    const failing = Object.assign(Object.create(database) as Database, {
      query: (operation: string, ...rest: unknown[]) =>
        operation === 'read the global database replication status'
          ? Promise.reject(Object.assign(new Error('permission denied for function aurora_global_db_status'), { code: '42501' }))
          : (database.query as (...args: unknown[]) => Promise<unknown>).call(database, operation, ...rest),
    });
    expect(await reconcileJournal({ ...later(DURABLE_AFTER_MS), database: failing })).toEqual({ ...NOTHING, awaitingReplication: 2, fencingEpoch: 1 });
    // The writer alone (the old primary not yet back): nothing can be promoted with less, so the floor decides.
    await setGlobalDbStatus(run, REGION, []);
    expect(await reconcileJournal(later(DURABLE_AFTER_MS))).toEqual({ ...NOTHING, durable: 2, fencingEpoch: 1 });
  });

  it("restores orders a failover allowing data loss dropped from the old writer's last seconds (they were still pending)", async () => {
    await setControl(PRIMARY, 0);
    const orders = await journalOrders(5);
    // us-east-1's processor committed all five under epoch 0 and recorded it in the journal.
    await commitOrders(database, orders, 0, PRIMARY);
    for (const order of orders) await markJournalCommitted(documents, deps.journalTable, PRIMARY, order, 0, new Date());
    // The failover allowing data loss: the new writer lacks the last two (the replication lag), and us-east-2 is active.
    await database.query('lose the lag window', 'DELETE FROM orders WHERE client_order_id = ANY($1)', [['c-3', 'c-4']]);
    await setControl(REGION, 1);
    expect(await reconcileJournal(deps)).toEqual({ ...NOTHING, applied: 2, fencingEpoch: 1 });
    expect((await rows()).map((row) => [row.client_order_id, row.fencing_epoch])).toEqual([
      ['c-0', 0],
      ['c-1', 0],
      ['c-2', 0],
      ['c-3', 1],
      ['c-4', 1],
    ]);
  });

  it('counts entries past the bound that are not in the writer (the overdue alarm)', async () => {
    await setControl(REGION, 1);
    await journalOrders(3);
    expect(await reconcileJournal(later(121_000))).toMatchObject({ applied: 3, overdue: 3 });
    expect(await reconcileJournal(later(122_000))).toMatchObject({ applied: 0, overdue: 0 });
  });

  it('never takes a conflicting row as the order: records the conflict, flags the entry, keeps the stored row', async () => {
    await setControl(REGION, 1);
    const [order] = await journalOrders(1);
    // Another order already holds c-0 (same key, another orderId).
    const other = { ...order, orderId: '00000000-0000-4000-8000-000000000001', quantity: '99' };
    await commitOrders(database, [other], 1, REGION);
    expect(await reconcileJournal(deps)).toEqual({ ...NOTHING, conflicts: 1, fencingEpoch: 1 });
    expect((await rows()).map((row) => row.order_id)).toEqual([other.orderId]);
    const conflicts = await database.query<{ order_id: string; stored_order_id: string }>('conflicts', 'SELECT order_id, stored_order_id FROM order_conflicts');
    expect(conflicts).toEqual([{ order_id: order.orderId, stored_order_id: other.orderId }]);
    const [entry] = await scanAll(deps.journalTable);
    expect(entry.conflictingOrderId).toBe(other.orderId);
    expect(entry.appliedAt).toBeUndefined();
    // Reported on every run until an operator resolves it; never applied.
    expect(await reconcileJournal(later(DURABLE_AFTER_MS))).toEqual({ ...NOTHING, conflicts: 1, fencingEpoch: 1 });
  });

  it("applies two accounts' orders under the same client order id as two orders, and takes neither for the other", async () => {
    await setControl(REGION, 1);
    const [mine] = await journalOrders(1);
    const theirs = AcceptedOrderSchema.parse(
      JSON.parse(
        await journalOrder(deps.journalTable, {
          clientOrderId: mine.clientOrderId,
          accountId: 'acct-2',
          symbol: 'AAPL',
          side: 'sell',
          orderType: 'market',
          quantity: '3',
        }),
      ),
    );
    // One is in the writer already; the other account's is missing.
    await commitOrders(database, [theirs], 1, REGION);
    expect(await reconcileJournal(deps)).toEqual({ ...NOTHING, applied: 1, fencingEpoch: 1 });
    expect((await rows()).map((row) => row.order_id).sort()).toEqual([mine.orderId, theirs.orderId].sort());
    expect(await database.query('conflicts', 'SELECT order_id FROM order_conflicts')).toEqual([]);
  });

  it('commits the rest of a page when the writer keeps refusing one order, and leaves that one pending', async () => {
    await setControl(REGION, 1);
    await journalOrders(5);
    await database.query(
      'refuse c-3',
      `CREATE FUNCTION refuse_c3() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN IF NEW.client_order_id = 'c-3' THEN RAISE EXCEPTION 'c-3 refused' USING ERRCODE = '23514'; END IF; RETURN NEW; END $$`,
    );
    await database.query('refuse c-3', 'CREATE TRIGGER refuse_c3 BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION refuse_c3()');
    try {
      expect(await reconcileJournal(deps)).toEqual({ ...NOTHING, applied: 4, notCommitted: 1, fencingEpoch: 1 });
      expect((await rows()).map((row) => row.client_order_id)).toEqual(['c-0', 'c-1', 'c-2', 'c-4']);
    } finally {
      await database.query('allow c-3', 'DROP TRIGGER refuse_c3 ON orders');
      await database.query('allow c-3', 'DROP FUNCTION refuse_c3()');
    }
    // Pending still: the next run commits it.
    expect(await reconcileJournal(deps)).toEqual({ ...NOTHING, applied: 1, fencingEpoch: 1 });
  });

  it('commits nothing under an epoch older than one this cluster has committed under', async () => {
    await setControl(REGION, 1);
    const orders = await journalOrders(2);
    await commitOrders(database, [orders[0]], 7, REGION);
    await expect(commitOrders(database, [orders[1]], 6, REGION)).rejects.toThrow(StaleEpochError);
    // The control table says epoch 1, the cluster has seen 7: the run stops without committing.
    expect(await reconcileJournal(deps)).toMatchObject({ applied: 0, complete: false });
    expect((await rows()).map((row) => row.client_order_id)).toEqual(['c-0']);
  });

  /** A document client that records the shard and start key of every pending-index query. */
  function recordingQueries(): { client: typeof documents; queries: { shard: string; resumed: boolean }[] } {
    const queries: { shard: string; resumed: boolean }[] = [];
    const client = Object.create(documents, {
      send: {
        value: (command: { input: Record<string, any> }, ...rest: unknown[]) => {
          if (command instanceof QueryCommand)
            queries.push({ shard: command.input.ExpressionAttributeValues?.[':shard'], resumed: command.input.ExclusiveStartKey !== undefined });
          return (documents.send as (...args: unknown[]) => unknown)(command, ...rest);
        },
      },
    });
    return { client, queries };
  }

  async function cursorItem(): Promise<Record<string, unknown> | undefined> {
    return (
      await documents.send(
        new GetCommand({ TableName: deps.controlTable, Key: { [ControlTableSchema.pk]: ControlTableSchema.reconcileCursorItem }, ConsistentRead: true }),
      )
    ).Item;
  }

  it('resumes where a run that ran out of time stopped, under the same epoch, and starts over after a failover', async () => {
    await setControl(REGION, 1);
    await journalOrders(16);
    // Time runs out after the third query: the run stops before its fourth page.
    const first = recordingQueries();
    const stopped = await reconcileJournal({
      ...deps,
      documents: first.client,
      pageSize: 2,
      trigger: 'schedule',
      remainingMs: () => (first.queries.length >= 3 ? 0 : 60_000),
    });
    expect(stopped.complete).toBe(false);
    const cursor = await cursorItem();
    expect(cursor).toMatchObject({ epoch: 1 });
    // The next scheduled run's first query is the page where the last one stopped, not p#0's first.
    const second = recordingQueries();
    const resumed = await reconcileJournal({ ...deps, documents: second.client, pageSize: 2, trigger: 'schedule' });
    expect(resumed.complete).toBe(true);
    expect(second.queries[0]).toEqual({ shard: `p#${cursor!.shard}`, resumed: cursor!.startKey !== undefined });
    // It reads on to the last shard, not the shards before the cursor (the stopped run read those).
    expect(second.queries.every((query) => Number(query.shard.slice(2)) >= Number(cursor!.shard))).toBe(true);
    expect(stopped.applied + resumed.applied).toBe(16);
    expect(await cursorItem()).toBeUndefined();
    // A cursor of an older epoch is not used: a failover starts over from the first shard.
    await documents.send(new PutCommand({ TableName: deps.controlTable, Item: { ...cursor!, epoch: 1 } }));
    await setControl(REGION, 2);
    const third = recordingQueries();
    await reconcileJournal({ ...deps, documents: third.client, pageSize: 2, trigger: 'schedule' });
    expect(third.queries[0]).toEqual({ shard: 'p#0', resumed: false });
    // Its completed cycle deletes the unused cursor too.
    expect(await cursorItem()).toBeUndefined();
  });

  it('stores values exactly as given, quotes and backslashes included (the commit sends them as quoted literals)', async () => {
    const [base] = await journalOrders(1);
    // The accepted-order schema a message is read with allows any account text, unlike intake's.
    const odd = { ...base, accountId: 'o\'brien\\ "x" $$; --', clientOrderId: "q'1" };
    await commitOrders(database, [odd], 0, "us-'east");
    const [stored] = await database.query<{ account_id: string; client_order_id: string }>('the row', 'SELECT account_id, client_order_id FROM orders');
    expect(stored).toEqual({ account_id: odd.accountId, client_order_id: odd.clientOrderId });
    // Committed again, it is the same order already stored, not a conflict.
    expect(await commitOrders(database, [odd], 0, "us-'east")).toEqual({ stored: [odd], conflicts: [] });
  });

  it('marks an order that is in Aurora already applied, without a second row', async () => {
    await setControl(REGION, 3);
    const orders = await journalOrders(3);
    // The old region committed c-1 under epoch 2 but did not get to mark its journal entry.
    await commitOrders(database, [orders[1]], 2, PRIMARY);
    const result = await reconcileJournal(deps);
    expect(result).toMatchObject({ applied: 2, skipped: 0, complete: true });
    const committed = await rows();
    expect(committed.map((row) => [row.client_order_id, row.order_id, row.fencing_epoch])).toEqual([
      ['c-0', orders[0].orderId, 3],
      ['c-1', orders[1].orderId, 2],
      ['c-2', orders[2].orderId, 3],
    ]);
    // c-1 is recorded as in this epoch's writer now; all three become durable later.
    expect(await reconcileJournal(later(DURABLE_AFTER_MS))).toMatchObject({ durable: 3 });
    expect(await pendingIds()).toEqual([]);
  });

  it('reports an unreadable pending entry and leaves it pending, while applying the rest of its shard and the others', async () => {
    await setControl(REGION, 4);
    await journalOrders(8);
    const byShard = await pendingByShard();
    const [shard] = Object.entries(byShard).sort(([, a], [, b]) => b.length - a.length)[0];
    // Accepted before every real order, so it sits at the start of its shard's first page.
    await documents.send(
      new PutCommand({
        TableName: deps.journalTable,
        Item: { orderKey: 'acct-1/broken-1', clientOrderId: 'broken-1', pendingShard: shard, acceptedAt: '2000-01-01T00:00:00.000Z', symbol: 'MSFT' },
      }),
    );
    const result = await reconcileJournal({ ...deps, pageSize: 2 });
    expect(result).toEqual({ ...NOTHING, applied: 8, unreadable: ['acct-1/broken-1'], fencingEpoch: 4 });
    expect(await reconcileJournal({ ...later(DURABLE_AFTER_MS), pageSize: 2 })).toMatchObject({ durable: 8 });
    expect(await pendingByShard()).toEqual({ 'p#0': [], 'p#1': [], 'p#2': [], 'p#3': [], [shard]: ['broken-1'] });
    expect((await rows()).map((row) => row.client_order_id)).toEqual(['c-0', 'c-1', 'c-2', 'c-3', 'c-4', 'c-5', 'c-6', 'c-7']);

    // Still there for a person on the next run; nothing else to do.
    expect(await reconcileJournal(deps)).toEqual({ ...NOTHING, unreadable: ['acct-1/broken-1'], fencingEpoch: 4 });
  });

  it('stops with complete: false when time runs short, and a later run finishes', async () => {
    await setControl(REGION, 5);
    await journalOrders(16);
    // Time for two pages, then too little.
    let pages = 0;
    const first = await reconcileJournal({ ...deps, remainingMs: () => (pages++ < 2 ? 60_000 : 999) });
    expect(first.complete).toBe(false);
    expect(first.applied).toBeGreaterThan(0);
    expect(first.applied).toBeLessThanOrEqual(2 * deps.pageSize);
    expect(first.fencingEpoch).toBe(5);
    // What it applied is in Aurora; the rest is not.
    expect(await rows()).toHaveLength(first.applied);

    const second = await reconcileJournal(deps);
    expect(second).toEqual({ ...NOTHING, applied: 16 - first.applied, fencingEpoch: 5 });
    expect(await rows()).toHaveLength(16);
  });

  it('does nothing when too little time is left to start', async () => {
    await setControl(REGION, 5);
    await journalOrders(2);
    const result = await reconcileJournal({ ...deps, remainingMs: () => 500 });
    expect(result).toEqual({ ...NOTHING, complete: false, fencingEpoch: 5 });
    expect(await rows()).toEqual([]);
    expect(await pendingIds()).toEqual(['c-0', 'c-1']);
  });
});

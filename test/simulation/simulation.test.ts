import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { AcceptedOrderSchema } from '../../lambda/shared/order';
import { commitOrders } from '../../lambda/shared/order-store';
import { journalOrder } from '../helpers/orders';
import { deploymentOf, PRIMARY, SECONDARY } from '../helpers/two-region-world';
import { SimulationFixture } from './fixture';
import { brokenInvariants, formatReport, SIMULATION_CONFIG } from './report';
import { NAMED_SEQUENCES, sequenceOf } from './sequences';
import { Simulation } from './simulation';

/**
 * The two-region simulation (test/simulation/), with a fixed set of seeds sized for the test
 * command: every named sequence once, and a few random schedules. `npm run simulate` runs more.
 */

const fixture = new SimulationFixture(deploymentOf(SIMULATION_CONFIG));
beforeAll(() => fixture.start());
afterAll(() => fixture.stop());
beforeEach(() => fixture.reset());

/** Random seeds the test command runs (more with `npm run simulate -- --seeds N`). */
const RANDOM_SEEDS = (process.env.SIMULATION_SEEDS ?? '1,2').split(',').map(Number);

describe('the two-region simulation', () => {
  it.each(Object.keys(NAMED_SEQUENCES))('keeps every required invariant through %s', async (name) => {
    const report = await new Simulation(fixture, sequenceOf(name, 1), 1).run();
    const broken = brokenInvariants(report);
    if (broken.length > 0 || process.env.SIMULATION_PRINT) process.stdout.write(`${formatReport(report)}\n`);
    expect(broken).toEqual([]);
  });

  it.each(RANDOM_SEEDS)('keeps every required invariant through random seed %d', async (seed) => {
    const report = await new Simulation(fixture, sequenceOf('random', seed), seed).run();
    const broken = brokenInvariants(report);
    if (broken.length > 0 || process.env.SIMULATION_PRINT) process.stdout.write(`${formatReport(report)}\n`);
    expect(broken).toEqual([]);
  });

  it("keeps an unreachable old writer's commits until it rejoins, then discards them; a reachable one is fenced at once", async () => {
    const { storage } = fixture;
    const order = async (clientOrderId: string) =>
      AcceptedOrderSchema.parse(
        JSON.parse(
          await journalOrder(fixture.world.journalTable, {
            clientOrderId,
            accountId: 'acct-1',
            symbol: 'AAPL',
            side: 'buy',
            orderType: 'market',
            quantity: '1',
          }),
        ),
      );
    await storage.reset(PRIMARY, { lagMs: 0, rpoSeconds: {} }, 0);
    storage.setRegionDown(PRIMARY, true);
    await storage.failedOver(SECONDARY);
    // Cut off at the failover: us-east-1's own functions still commit there, under the old epoch.
    await commitOrders(storage.database(PRIMARY), [await order('isolated-1')], 0, PRIMARY);
    await commitOrders(storage.database(SECONDARY), [await order('promoted-1')], 1, SECONDARY);
    expect((await storage.orders(PRIMARY)).map((row) => row.client_order_id)).toEqual(['isolated-1']);
    storage.setRegionDown(PRIMARY, false);
    await storage.rejoined(PRIMARY);
    expect((await storage.orders(PRIMARY)).map((row) => row.client_order_id)).toEqual(['promoted-1']);
    expect(storage.discardedAtRejoin).toBe(1);
    await expect(commitOrders(storage.database(PRIMARY), [await order('after-rejoin')], 0, PRIMARY)).rejects.toThrow(/read-only transaction/);

    // Reachable at the failover: fenced before anything more commits.
    await storage.reset(PRIMARY, { lagMs: 0, rpoSeconds: {} }, 0);
    await storage.failedOver(SECONDARY);
    await expect(commitOrders(storage.database(PRIMARY), [await order('fenced-1')], 0, PRIMARY)).rejects.toThrow(/read-only transaction/);
  });

  it('refuses writes and strongly consistent reads from a region whose DynamoDB replica lost its quorum, and answers eventually consistent reads', async () => {
    const { dynamodb, world } = fixture;
    fixture.dynamoDbReach = (region) => (region === PRIMARY ? 'cut' : 'normal');
    try {
      const table = world.deployment.controlTable;
      const key = { pk: 'simulation-probe' };
      await dynamodb.client(SECONDARY).send(new PutCommand({ TableName: table, Item: { ...key, value: 1 } }));
      const cut = dynamodb.client(PRIMARY);
      await expect(cut.send(new PutCommand({ TableName: table, Item: { ...key, value: 2 } }))).rejects.toThrow(
        /reaches neither the other replica nor the witness/,
      );
      await expect(cut.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).rejects.toThrow(/MRSC/);
      await expect(cut.send(new GetCommand({ TableName: table, Key: key }))).resolves.toMatchObject({ Item: { value: 1 } });
    } finally {
      fixture.dynamoDbReach = () => 'normal';
    }
  });
});

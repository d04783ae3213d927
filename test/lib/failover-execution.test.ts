import { GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { Template } from 'aws-cdk-lib/assertions';
import { ControlTableSchema } from '../../lambda/contracts/tables';
import { FAILED_NOTIFICATION_METRIC } from '../../lib/failover/failover-orchestrator';
import { documents } from '../helpers/aws';
import { synthDeployment } from '../helpers/app';
import { journalOrder } from '../helpers/orders';
import { Route53FailoverModel } from '../helpers/route53-failover';
import { ExecutionResult, taskError } from '../helpers/state-machine';
import { deploymentOf, loseFirstAnswer, PRIMARY, Region, RunOptions, SECONDARY, TARGETS, World, WorldFixture } from '../helpers/two-region-world';

/**
 * Both regions' failover state machines, taken from the synthesized templates and executed locally
 * (aws-local-stepfunctions through test/helpers/state-machine.ts), in one world
 * (test/helpers/two-region-world.ts):
 * - their DynamoDB, CloudWatch, SNS and EventBridge tasks run against moto_server, and so do the
 *   steps' SSM and CloudWatch calls, in the region each call names;
 * - their Lambda steps are the real handlers' logic against moto_server, the loopback PostgreSQL
 *   and each region's API stood in for on loopback, whose /health reads the control table as the
 *   health function does (drained: 503);
 * - Aurora's global database is the model of test/helpers/aurora-global.ts (switchover only in
 *   the primary's region, failover in the target's, lag, the old primary rejoining);
 * - DNS is Route 53's failover rule (test/helpers/route53-failover.ts) over each region's /health
 *   and its evacuation switch, whose position is its parameter in the host region (the switch
 *   keeper republishes it every minute, test/lambda/switch-keeper.test.ts), evaluated at once;
 * - a region that is down answers nothing: API, SSM, CloudWatch and RDS.
 */

const deployment = deploymentOf();
const naming = deployment.namings[SECONDARY];
const CONTROL_TABLE = deployment.controlTable;
const CLUSTER_ARNS = deployment.clusterArns;
const fixture = new WorldFixture(deployment);
const { apis } = fixture;
const cloudwatch = fixture.cloudwatch;

/** A world whose DNS answers by Route 53's failover rule at once. */
class InstantDnsWorld extends World {
  readonly dns = new Route53FailoverModel(
    { target: TARGETS[PRIMARY], healthy: () => this.recordHealthy(PRIMARY) },
    { target: TARGETS[SECONDARY], healthy: () => this.recordHealthy(SECONDARY) },
  );

  constructor() {
    super(fixture);
    this.resolve = () => this.dns.answer();
  }
}

beforeAll(() => fixture.start());
afterAll(() => fixture.stop());
beforeEach(() => fixture.reset());

const run = (world: World, region: Region, input: unknown, options: RunOptions = {}): Promise<ExecutionResult> => world.run(region, input, options);
const controlItem = (pk: string) => fixture.controlItem(pk);
const activeRegion = () => fixture.activeRegion();
const switches = () => fixture.switches();
const drainAlerts = () => fixture.drainAlerts();
const journalTable = () => fixture.journalTable;

/** States in the order the run entered them, each once (loops shown once). */
function distinct(path: string[]): string[] {
  return path.filter((state, index) => path.indexOf(state) === index);
}

describe('failover state machine, executed from the synthesized definitions', () => {
  it('planned: fences, sets the switches, switches over in the primary region, waits for the writer, replays the journal, validates and notifies', async () => {
    const world = new InstantDnsWorld();
    const pending = await Promise.all(
      [1, 2, 3].map((index) =>
        journalOrder(journalTable(), {
          clientOrderId: `before-failover-${index}`,
          accountId: 'acct-1',
          symbol: 'MSFT',
          side: 'buy',
          orderType: 'market',
          quantity: '1',
        }),
      ),
    );
    expect(pending).toHaveLength(3);

    const result = await run(world, SECONDARY, { mode: 'planned', reason: 'drill' });

    expect(result.error).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
    expect(distinct(result.path)).toEqual([
      'Preflight: valid input?',
      'Preflight: check regions',
      'Preflight: ready?',
      'Preflight: acquire lock',
      'Preflight: announce start',
      'Fence: set active region',
      'Fence: set switches',
      'Promote: read global cluster',
      'Promote: already writer?',
      'Promote: request',
      'Promote: start polling',
      'Promote: wait',
      'Promote: read progress',
      'Promote: writer yet?',
      'Promote: count poll',
      'Promote: done',
      'Reconcile: replay journal',
      'Reconcile: complete?',
      'Validate: name canary',
      'Validate: region serves',
      'Record: durations',
      'Notify: alert',
      'Notify: event',
      'Unlock: release',
      'Done',
    ]);
    // The switchover went to the primary's region, as the Aurora User Guide says.
    expect(world.aurora.calls.filter((call) => call.action === 'switchover')).toEqual([{ action: 'switchover', region: PRIMARY }]);
    expect(world.aurora.writer).toBe(CLUSTER_ARNS[SECONDARY]);
    expect(await activeRegion()).toEqual({ activeRegion: SECONDARY, fencingEpoch: 1, drainedRegions: [PRIMARY] });
    expect(await switches()).toEqual({ [PRIMARY]: 'thrown', [SECONDARY]: 'released' });
    expect(await controlItem(ControlTableSchema.failoverLockItem)).toBeUndefined();
    const rows = await fixture.database.query<{ client_order_id: string; fencing_epoch: number }>(
      'read',
      'SELECT client_order_id, fencing_epoch FROM orders ORDER BY client_order_id',
    );
    expect(rows.filter((row) => row.client_order_id.startsWith('before-failover-')).map((row) => [row.client_order_id, Number(row.fencing_epoch)])).toEqual([
      ['before-failover-1', 1],
      ['before-failover-2', 1],
      ['before-failover-3', 1],
    ]);
    expect(world.figures).toEqual([expect.objectContaining({ outcome: 'succeeded', mode: 'planned' })]);
    expect(await drainAlerts()).toEqual([`Failover to ${SECONDARY} completed`]);
  });

  it('failover, failback, then the next unplanned failover: the failback leaves the secondary a healthy standby, so DNS can move again', async () => {
    const world = new InstantDnsWorld();
    const failover = await run(world, SECONDARY, { mode: 'planned', reason: 'drill' });
    expect(failover.status).toBe('SUCCEEDED');
    expect(await world.dns.answer()).toBe(TARGETS[SECONDARY]);

    const failback = await run(world, PRIMARY, { mode: 'planned', reason: 'failback' });
    expect(failback.error).toBeUndefined();
    expect(failback.status).toBe('SUCCEEDED');
    expect(world.aurora.calls.filter((call) => call.action === 'switchover').map((call) => call.region)).toEqual([PRIMARY, SECONDARY]);
    // Roles after the failback: the primary active, the secondary neither drained nor evacuated.
    expect(await activeRegion()).toEqual({ activeRegion: PRIMARY, fencingEpoch: 2, drainedRegions: [] });
    expect(await switches()).toEqual({ [PRIMARY]: 'released', [SECONDARY]: 'released' });
    expect(await world.recordHealthy(SECONDARY)).toBe(true);
    expect(await world.dns.answer()).toBe(TARGETS[PRIMARY]);

    // The primary region goes dark.
    world.setDown(PRIMARY, true);
    const outage = await run(world, SECONDARY, { mode: 'unplanned', reason: 'us-east-1 outage' });
    expect(outage.error).toBeUndefined();
    expect(outage.status).toBe('SUCCEEDED');
    expect(world.aurora.calls.filter((call) => call.action === 'failover')).toEqual([{ action: 'failover', region: SECONDARY }]);
    expect(await world.dns.answer()).toBe(TARGETS[SECONDARY]);
    expect(await activeRegion()).toEqual({ activeRegion: SECONDARY, fencingEpoch: 3, drainedRegions: [PRIMARY] });
  });

  it('unplanned with the other region down: fails over allowing data loss in its own region and reports the switch it could not set there', async () => {
    const world = new InstantDnsWorld();
    world.setDown(PRIMARY, true);
    const result = await run(world, SECONDARY, { mode: 'unplanned', reason: 'us-east-1 unreachable' });

    expect(result.status).toBe('SUCCEEDED');
    expect(world.aurora.calls.filter((call) => call.action !== 'describe')).toEqual([{ action: 'failover', region: SECONDARY }]);
    expect(result.output).toEqual(
      expect.objectContaining({
        switches: {
          switches: [expect.objectContaining({ evacuatedRegion: PRIMARY, set: true }), expect.objectContaining({ evacuatedRegion: SECONDARY, set: false })],
        },
      }),
    );
    expect(await activeRegion()).toEqual({ activeRegion: SECONDARY, fencingEpoch: 1, drainedRegions: [PRIMARY] });
    expect(await controlItem(ControlTableSchema.failoverLockItem)).toBeUndefined();
  });

  it('a lost answer on the lock write: the retry finds its own lock and the run goes on', async () => {
    const world = new InstantDnsWorld();
    const result = await run(world, SECONDARY, { mode: 'planned', reason: 'drill' }, { wrappers: { 'Preflight: acquire lock': loseFirstAnswer() } });
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
    expect(await controlItem(ControlTableSchema.failoverLockItem)).toBeUndefined();
  });

  it('a lost answer on the fence write: the retry finds its own fence, the epoch moves once and the run goes on', async () => {
    const world = new InstantDnsWorld();
    const result = await run(world, SECONDARY, { mode: 'planned', reason: 'drill' }, { wrappers: { 'Fence: set active region': loseFirstAnswer() } });
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
    expect(await activeRegion()).toEqual({ activeRegion: SECONDARY, fencingEpoch: 1, drainedRegions: [PRIMARY] });
  });

  it('waits out a busy global cluster: the promotion is retried with backoff, then succeeds', async () => {
    const world = new InstantDnsWorld();
    world.aurora.busyRefusals = 2;
    world.aurora.lagPolls = 5;
    const result = await run(world, SECONDARY, { mode: 'planned', reason: 'drill' });

    expect(result.status).toBe('SUCCEEDED');
    expect(world.aurora.calls.filter((call) => call.action === 'switchover')).toHaveLength(3);
    expect(world.aurora.writer).toBe(CLUSTER_ARNS[SECONDARY]);
  });

  it('planned whose promotion never completes: times out, restores the roles under a newer epoch, alerts, unlocks', async () => {
    const world = new InstantDnsWorld();
    world.aurora.neverCompletes = true;
    const result = await run(world, SECONDARY, { mode: 'planned', reason: 'drill' });

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('PromotionTimedOut');
    expect(result.error?.cause).toMatch(/did not become the writer/);
    expect(distinct(result.path).slice(-11)).toEqual([
      'Promote: timed out',
      'Rollback: needed?',
      'Rollback: read global cluster',
      'Rollback: switchover completed?',
      'Rollback: restore active region',
      'Rollback: set switches',
      'Alert: failure',
      'Alert: failure event',
      'Alert: record failure',
      'Unlock: release after failure',
      'Failed',
    ]);
    // Back where it was, under a newer epoch, so nothing fenced by this run commits under the old one.
    expect(await activeRegion()).toEqual({ activeRegion: PRIMARY, fencingEpoch: 2, drainedRegions: [] });
    expect(await switches()).toEqual({ [PRIMARY]: 'released', [SECONDARY]: 'released' });
    expect(await controlItem(ControlTableSchema.failoverLockItem)).toBeUndefined();
    expect(world.figures).toEqual([expect.objectContaining({ outcome: 'failed' })]);
    expect(await drainAlerts()).toEqual([`Failover to ${SECONDARY} FAILED`]);
  });

  it('planned whose switchover completes after the timeout: the rollback re-reads the global cluster and finishes the failover instead', async () => {
    const world = new InstantDnsWorld();
    world.aurora.neverCompletes = true;
    // The switchover ends between the last poll and the rollback's re-read.
    world.beforeRollbackRead = () => world.aurora.completePromotion();
    const result = await run(world, SECONDARY, { mode: 'planned', reason: 'drill' });

    expect(result.path).toContain('Promote: timed out');
    expect(result.path).toContain('Rollback: switchover completed?');
    expect(result.path).not.toContain('Rollback: restore active region');
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
    // The writer and the active region agree: both in us-east-2.
    expect(world.aurora.writer).toBe(CLUSTER_ARNS[SECONDARY]);
    expect(await activeRegion()).toEqual({ activeRegion: SECONDARY, fencingEpoch: 1, drainedRegions: [PRIMARY] });
  });

  it('unplanned whose promotion never completes: keeps the fence (the old region is gone), alerts and unlocks', async () => {
    const world = new InstantDnsWorld();
    world.setDown(PRIMARY, true);
    world.aurora.neverCompletes = true;
    const result = await run(world, SECONDARY, { mode: 'unplanned', reason: 'outage' });

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('PromotionTimedOut');
    expect(result.path).not.toContain('Rollback: restore active region');
    expect(await activeRegion()).toEqual({ activeRegion: SECONDARY, fencingEpoch: 1, drainedRegions: [PRIMARY] });
    expect(await controlItem(ControlTableSchema.failoverLockItem)).toBeUndefined();
    expect(await drainAlerts()).toEqual([`Failover to ${SECONDARY} FAILED`]);
  });

  it('stops when another failover holds the lock, alerting, touching nothing and leaving that lock alone', async () => {
    const world = new InstantDnsWorld();
    const otherLock = {
      [ControlTableSchema.pk]: ControlTableSchema.failoverLockItem,
      holder: 'arn:aws:states:us-east-1:111111111111:execution:other:run',
      expiresAt: Math.floor(Date.now() / 1000) + 600,
    };
    await documents.send(new PutCommand({ TableName: CONTROL_TABLE, Item: otherLock }));

    const result = await run(world, SECONDARY, { mode: 'planned', reason: 'drill' });

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('FailoverInProgress');
    expect(result.path.slice(-3)).toEqual(['Preflight: acquire lock', 'Preflight: alert another failover', 'Preflight: another failover is running']);
    expect(await controlItem(ControlTableSchema.failoverLockItem)).toEqual(otherLock);
    expect(await activeRegion()).toEqual({ activeRegion: undefined, fencingEpoch: undefined, drainedRegions: undefined });
    expect(world.aurora.calls.filter((call) => call.action !== 'describe')).toEqual([]);
    expect(await drainAlerts()).toEqual([`Failover to ${SECONDARY} not started: another failover holds the lock`]);
  });

  it('takes over a lock that has lapsed (a crashed run must not block failover forever)', async () => {
    const world = new InstantDnsWorld();
    await documents.send(
      new PutCommand({
        TableName: CONTROL_TABLE,
        Item: { [ControlTableSchema.pk]: ControlTableSchema.failoverLockItem, holder: 'crashed', expiresAt: Math.floor(Date.now() / 1000) - 1 },
      }),
    );
    const result = await run(world, SECONDARY, { mode: 'planned', reason: 'drill' });
    expect(result.status).toBe('SUCCEEDED');
  });

  it('stops on a fencing conflict: a concurrent change of the epoch wins, and this run changes nothing', async () => {
    const world = new InstantDnsWorld();
    const concurrent = { [ControlTableSchema.pk]: ControlTableSchema.activeRegionItem, activeRegion: PRIMARY, fencingEpoch: 5 };
    world.afterPreflight = async () => {
      await documents.send(new PutCommand({ TableName: CONTROL_TABLE, Item: concurrent }));
    };
    const result = await run(world, SECONDARY, { mode: 'planned', reason: 'drill' });

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('DynamoDB.ConditionalCheckFailedException');
    expect(distinct(result.path)).toEqual(
      expect.arrayContaining(['Fence: set active region', 'Rollback: needed?', 'Alert: failure', 'Unlock: release after failure', 'Failed']),
    );
    expect(result.path).not.toContain('Fence: set switches');
    expect(await activeRegion()).toEqual({ activeRegion: PRIMARY, fencingEpoch: 5, drainedRegions: undefined });
    expect(await controlItem(ControlTableSchema.failoverLockItem)).toBeUndefined();
    expect(world.aurora.calls.filter((call) => call.action !== 'describe')).toEqual([]);
  });

  it('refuses a planned failover when the other region does not answer (a switchover needs it), before taking the lock', async () => {
    const world = new InstantDnsWorld();
    world.setDown(PRIMARY, true);
    const result = await run(world, SECONDARY, { mode: 'planned', reason: 'drill' });

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('PreflightFailed');
    expect(result.error?.cause).toMatch(/start an unplanned failover instead/);
    expect(result.path).not.toContain('Preflight: acquire lock');
    expect(await activeRegion()).toEqual({ activeRegion: undefined, fencingEpoch: undefined, drainedRegions: undefined });
  });

  it('refuses an unplanned run that may not lose data when no switchover is possible', async () => {
    const world = new InstantDnsWorld();
    world.setDown(PRIMARY, true);
    const result = await run(world, SECONDARY, { mode: 'unplanned', reason: 'primary database down', allowDataLoss: false });
    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('PreflightFailed');
    expect(result.error?.cause).toMatch(/this run does not allow data loss/);
    expect(world.aurora.calls.filter((call) => call.action !== 'describe')).toEqual([]);
  });

  it('refuses to take over when its own region cannot serve', async () => {
    const world = new InstantDnsWorld();
    apis[SECONDARY].databaseOk = false;
    const result = await run(world, SECONDARY, { mode: 'unplanned', reason: 'outage' });

    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('PreflightFailed');
    expect(result.error?.cause).toMatch(/this region cannot serve: HTTP 503 \(database: down\)/);
  });

  it('stops at once, changing nothing, when a late duplicate start finds this region already active with the writer', async () => {
    const world = new InstantDnsWorld();
    expect((await run(world, SECONDARY, { mode: 'planned', reason: 'drill' })).status).toBe('SUCCEEDED');
    await drainAlerts();
    const calls = world.aurora.calls.length;

    const duplicate = await run(world, SECONDARY, { mode: 'unplanned', reason: 'late duplicate from the prober' });

    expect(duplicate.status).toBe('SUCCEEDED');
    expect(duplicate.path).toEqual(['Preflight: valid input?', 'Preflight: check regions', 'Preflight: ready?', 'Preflight: already active']);
    expect(await activeRegion()).toEqual({ activeRegion: SECONDARY, fencingEpoch: 1, drainedRegions: [PRIMARY] });
    expect(world.aurora.calls.slice(calls).filter((call) => call.action !== 'describe')).toEqual([]);
    expect(await drainAlerts()).toEqual([]);
  });

  it('counts an alert it could not publish, with the metric its alarm watches, and still completes', async () => {
    const world = new InstantDnsWorld();
    const result = await run(
      world,
      SECONDARY,
      { mode: 'planned', reason: 'drill' },
      {
        wrappers: {
          'Notify: alert': async () => {
            throw taskError('SNS.AuthorizationErrorException', 'the topic key policy denies publishing');
          },
        },
      },
    );
    expect(result.status).toBe('SUCCEEDED');
    expect(result.path).toContain('Notify: count failed alert');
    const end = new Date(Date.now() + 60_000);
    const { Datapoints } = await cloudwatch[PRIMARY].send(
      new GetMetricStatisticsCommand({
        Namespace: naming.metricNamespace(),
        MetricName: FAILED_NOTIFICATION_METRIC,
        Dimensions: [{ Name: 'Region', Value: SECONDARY }],
        StartTime: new Date(end.getTime() - 600_000),
        EndTime: end,
        Period: 60,
        Statistics: ['Sum'],
      }),
    );
    expect((Datapoints ?? []).reduce((sum, point) => sum + (point.Sum ?? 0), 0)).toBeGreaterThanOrEqual(1);
  });

  describe('with requireDataLossApproval', () => {
    const approvalTemplate = Template.fromStack(synthDeployment({ requireDataLossApproval: 'true' }).deployment.secondary.regionalStack).toJSON();

    it('waits for a person before a failover allowing data loss, with the approve and deny commands in the alert, then fails over', async () => {
      const world = new InstantDnsWorld();
      world.setDown(PRIMARY, true);
      const asked: Record<string, unknown>[] = [];
      const result = await run(
        world,
        SECONDARY,
        { mode: 'unplanned', reason: 'us-east-1 outage' },
        {
          template: approvalTemplate,
          handlers: {
            'Promote: wait for approval': (input: Record<string, unknown>) => {
              asked.push(input);
              // What `aws stepfunctions send-task-success --task-output '{"approved":true}'` returns to the state.
              return { approved: true };
            },
          },
        },
      );
      expect(result.error).toBeUndefined();
      expect(result.status).toBe('SUCCEEDED');
      expect(distinct(result.path)).toEqual(expect.arrayContaining(['Promote: wait for approval', 'Promote: request']));
      const message = JSON.stringify(asked[0]);
      expect(message).toContain('send-task-success');
      expect(message).toContain('send-task-failure --region us-east-2 --error DataLossDenied');
      expect(world.aurora.calls.filter((call) => call.action === 'failover')).toEqual([{ action: 'failover', region: SECONDARY }]);
    });

    it('sends nothing to Aurora when the person denies, keeps the fence and alerts', async () => {
      const world = new InstantDnsWorld();
      world.setDown(PRIMARY, true);
      const result = await run(
        world,
        SECONDARY,
        { mode: 'unplanned', reason: 'us-east-1 outage' },
        {
          template: approvalTemplate,
          handlers: {
            'Promote: wait for approval': () => {
              throw taskError('DataLossDenied', 'denied by the trading desk');
            },
          },
        },
      );
      expect(result.status).toBe('FAILED');
      expect(result.error?.name).toBe('DataLossDenied');
      expect(world.aurora.calls.filter((call) => call.action !== 'describe')).toEqual([]);
      expect(await activeRegion()).toEqual({ activeRegion: SECONDARY, fencingEpoch: 1, drainedRegions: [PRIMARY] });
      expect(await drainAlerts()).toEqual([`Failover to ${SECONDARY} FAILED`]);
    });

    it('asks nobody when the promotion is a switchover (no data at risk)', async () => {
      const world = new InstantDnsWorld();
      const result = await run(world, SECONDARY, { mode: 'planned', reason: 'drill' }, { template: approvalTemplate });
      expect(result.status).toBe('SUCCEEDED');
      expect(result.path).not.toContain('Promote: wait for approval');
    });
  });

  it.each([
    [{ reason: 'no mode' }],
    [{ mode: 'sideways', reason: 'bad mode' }],
    [{ mode: 'planned' }],
    [{ mode: 'unplanned', reason: 'x', allowDataLoss: 'yes' }],
  ])('refuses input %j before doing anything', async (input) => {
    const world = new InstantDnsWorld();
    const result = await run(world, SECONDARY, input);
    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('InvalidInput');
    expect(result.path).toEqual(['Preflight: valid input?', 'Preflight: invalid input']);
  });
});

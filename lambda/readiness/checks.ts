import { CloudWatchClient, Datapoint, GetMetricStatisticsCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeTableCommand, DynamoDBClient, TableDescription } from '@aws-sdk/client-dynamodb';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetBucketReplicationCommand } from '@aws-sdk/client-s3';
import { DescribeStateMachineCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import {
  READINESS_CHECK_METRIC,
  READINESS_CHECKS,
  READINESS_FAILED_DETAIL_TYPE,
  READINESS_SUMMARY_METRIC,
  type ReadinessCheckName,
} from '../contracts/readiness';
import { readControlState } from '../shared/control';
import { checksPassed, DEPENDENCY_CHECKS, healthUrlOf, probeHealth } from '../shared/health-probe';
import { latestDatapoint } from '../shared/metrics';
import { roleGaps, rolesFor, secondaryRegionOf } from '../shared/roles';
import { readSwitch, switchRefOf } from '../shared/switches';
import { SwitchPosition } from '../contracts/switches';
import { ControlTableSchema } from '../contracts/tables';
import { dns } from './route53-checks';
import {
  METRIC_WINDOW_MS,
  FAILED_EXECUTION_STATUSES,
  ReadinessDependencies,
  ReadinessCheckResult,
  ReadinessReport,
  Verdict,
  pass,
  fail,
  errorName,
  awsCall,
} from './dependencies';

/**
 * The hourly failover-readiness check of one region: can a failover happen right now? Each check
 * below answers one part of that; all run at once, each within its own timeout, and one failing
 * (or throwing) never stops the others. The results are published as metrics (one per check, and
 * a summary) and, when anything failed, as a `Readiness Failed` event on the DR bus.
 */

/** DescribeTable through a client: the production `describeTable`. */
export function tableDescriber(client: DynamoDBClient): (tableName: string) => Promise<TableDescription> {
  return async (tableName) => {
    const response = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (!response.Table) throw new Error(`DescribeTable of ${tableName} returned no table`);
    return response.Table;
  };
}

/** The latest of datapoints, by timestamp. */
async function ownHealth(deps: ReadinessDependencies): Promise<Verdict> {
  const probe = await probeHealth(healthUrlOf(deps.ownApiUrl), deps.httpTimeoutMs, deps.get);
  if (probe.status === 200) return pass(`GET /health answered 200 in ${probe.ms} ms`);
  // Drained after a planned failover, with its own dependencies sound: it can take the role back,
  // which is what the orchestrator's preflight asks of it too.
  if (probe.answered && checksPassed(probe, DEPENDENCY_CHECKS)) return pass(`drained: ${probe.detail}; its ${DEPENDENCY_CHECKS.join(' and ')} checks pass`);
  return fail(`GET ${healthUrlOf(deps.ownApiUrl)}: ${probe.detail}`);
}

async function peerHealth(deps: ReadinessDependencies): Promise<Verdict> {
  let url: string;
  try {
    url = healthUrlOf(await deps.peerApiUrl());
  } catch (error) {
    return fail(`${deps.peerRegion} API URL unreadable: ${(error as Error).message}`);
  }
  const probe = await probeHealth(url, deps.httpTimeoutMs, deps.get);
  if (!probe.answered) return fail(`${deps.peerRegion}: ${probe.detail}`);
  // A drained standby answers 503 with only its control check failing: it can still take traffic back.
  if (!checksPassed(probe, DEPENDENCY_CHECKS))
    return fail(`${deps.peerRegion} cannot serve (${DEPENDENCY_CHECKS.join(' and ')} checks must pass): ${probe.detail}`);
  return pass(
    probe.status === 200 ? `${deps.peerRegion} healthy` : `${deps.peerRegion} answers ${probe.detail}; its ${DEPENDENCY_CHECKS.join(' and ')} checks pass`,
  );
}

async function database(deps: ReadinessDependencies): Promise<Verdict> {
  const rows = await deps.database.query<{ one: number }>('readiness query', 'SELECT 1 AS one');
  return rows[0]?.one === 1 ? pass('SELECT 1 answered') : fail(`SELECT 1 answered ${JSON.stringify(rows)}`);
}

interface LagReading {
  readonly source: string;
  readonly datapoint?: Datapoint;
  readonly error?: string;
}

async function readLag(client: CloudWatchClient, clusterId: string, region: string, deps: ReadinessDependencies): Promise<LagReading> {
  const source = `${clusterId} in ${region}`;
  const end = new Date(deps.now());
  try {
    const response = await awsCall(`read AuroraGlobalDBReplicationLag of ${source}`, () =>
      client.send(
        new GetMetricStatisticsCommand({
          Namespace: 'AWS/RDS',
          MetricName: 'AuroraGlobalDBReplicationLag',
          Dimensions: [{ Name: 'DBClusterIdentifier', Value: clusterId }],
          StartTime: new Date(end.getTime() - METRIC_WINDOW_MS),
          EndTime: end,
          Period: 60,
          Statistics: ['Maximum'],
        }),
      ),
    );
    return { source, datapoint: latestDatapoint(response.Datapoints) };
  } catch (error) {
    return { source, error: (error as Error).message };
  }
}

/**
 * Only the secondary member of the global database reports replication lag, in its own region,
 * and which member that is changes with every failover: both are read and the latest datapoint
 * of whichever reports counts. Silence from both fails: a global database that reports nothing
 * must not look healthy.
 */
async function replicationLag(deps: ReadinessDependencies): Promise<Verdict> {
  const readings = await Promise.all([
    readLag(deps.cloudwatch, deps.dbClusterId, deps.region, deps),
    readLag(deps.peerCloudwatch, deps.peerDbClusterId, deps.peerRegion, deps),
  ]);
  const reported = readings
    .filter((reading): reading is LagReading & { datapoint: Datapoint } => reading.datapoint?.Maximum !== undefined)
    .sort((a, b) => (b.datapoint.Timestamp?.getTime() ?? 0) - (a.datapoint.Timestamp?.getTime() ?? 0))[0];
  const unreadable = readings.filter((reading) => reading.error).map((reading) => `${reading.source}: ${reading.error}`);
  if (!reported) {
    return fail(
      `no replication lag reported${unreadable.length > 0 ? ` (unreadable: ${unreadable.join('; ')})` : ''} in the last ${METRIC_WINDOW_MS / 60_000} minutes`,
    );
  }
  const lagMs = reported.datapoint.Maximum!;
  const detail = `replication lag ${lagMs} ms (${reported.source}, ${reported.datapoint.Timestamp?.toISOString() ?? 'no timestamp'}), limit ${deps.maxReplicationLagMs} ms`;
  return lagMs > deps.maxReplicationLagMs ? fail(`${detail}: too far behind`) : pass(detail);
}

/** What is wrong with one global table, or undefined when its peer replica is active. */
export function globalTableProblem(table: TableDescription, tableName: string, peerRegion: string): string | undefined {
  if (table.TableStatus !== 'ACTIVE') return `table ${tableName} is ${table.TableStatus ?? 'of unknown status'}`;
  const replicas = table.Replicas ?? [];
  const inactive = replicas
    .filter((replica) => replica.ReplicaStatus !== 'ACTIVE')
    .map((replica) => `${replica.RegionName} ${replica.ReplicaStatus ?? 'of unknown status'}`);
  if (inactive.length > 0) return `table ${tableName} has replicas not active: ${inactive.join(', ')}`;
  if (!replicas.some((replica) => replica.RegionName === peerRegion)) {
    const regions = replicas.map((replica) => replica.RegionName).join(', ');
    return `table ${tableName} has no replica in ${peerRegion} (replicas: ${regions || 'none reported'})`;
  }
  return undefined;
}

async function globalTables(deps: ReadinessDependencies): Promise<Verdict> {
  const problems = await Promise.all(
    deps.tableNames.map(async (tableName) => {
      try {
        const table = await awsCall(`describe table ${tableName}`, () => deps.describeTable(tableName), ['ResourceNotFoundException']);
        return globalTableProblem(table, tableName, deps.peerRegion);
      } catch (error) {
        return `table ${tableName}: ${(error as Error).message}`;
      }
    }),
  );
  const found = problems.filter((problem): problem is string => problem !== undefined);
  return found.length > 0 ? fail(found.join('; ')) : pass(`${deps.tableNames.join(', ')}: active, replicated to ${deps.peerRegion}`);
}

/** The bucket name of an S3 ARN (`arn:aws:s3:::name`), or the text itself when it is a plain name. */
function bucketNameOf(arnOrName: string): string {
  return arnOrName.startsWith('arn:') ? arnOrName.slice(arnOrName.lastIndexOf(':') + 1) : arnOrName;
}

async function bucketProblem(bucketName: string, deps: ReadinessDependencies): Promise<string | undefined> {
  let rules;
  try {
    const response = await awsCall(
      `read the replication configuration of ${bucketName}`,
      () => deps.s3.send(new GetBucketReplicationCommand({ Bucket: bucketName })),
      ['ReplicationConfigurationNotFoundError', 'NoSuchBucket'],
    );
    rules = response.ReplicationConfiguration?.Rules ?? [];
  } catch (error) {
    if (errorName(error) === 'ReplicationConfigurationNotFoundError') return `bucket ${bucketName} has no replication configuration`;
    return `bucket ${bucketName}: ${(error as Error).message}`;
  }
  const toPeer = rules.filter((rule) => bucketNameOf(rule.Destination?.Bucket ?? '').includes(deps.peerRegionCode));
  if (toPeer.some((rule) => rule.Status === 'Enabled')) return undefined;
  const described = rules.map((rule) => `${rule.ID ?? '(no id)'} ${rule.Status} to ${rule.Destination?.Bucket ?? 'nowhere'}`).join(', ');
  return `bucket ${bucketName} has no enabled replication rule to a ${deps.peerRegionCode} bucket (rules: ${described || 'none'})`;
}

async function storageReplication(deps: ReadinessDependencies): Promise<Verdict> {
  const problems = (await Promise.all(deps.bucketNames.map((bucketName) => bucketProblem(bucketName, deps)))).filter(
    (problem): problem is string => problem !== undefined,
  );
  return problems.length > 0 ? fail(problems.join('; ')) : pass(`${deps.bucketNames.join(', ')}: replicating to ${deps.peerRegionCode}`);
}

async function stateMachine(deps: ReadinessDependencies): Promise<Verdict> {
  const described = await awsCall(
    `describe state machine ${deps.stateMachineArn}`,
    () => deps.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: deps.stateMachineArn })),
    ['StateMachineDoesNotExist', 'InvalidArn'],
  );
  if (described.status && described.status !== 'ACTIVE') return fail(`state machine ${described.name ?? deps.stateMachineArn} is ${described.status}`);
  const listed = await awsCall(`list executions of ${deps.stateMachineArn}`, () =>
    deps.sfn.send(new ListExecutionsCommand({ stateMachineArn: deps.stateMachineArn, maxResults: 1 })),
  );
  const last = listed.executions?.[0];
  if (!last) return pass(`${described.name ?? deps.stateMachineArn} active, no execution yet`);
  const summary = `latest execution ${last.name} ${last.status} (started ${last.startDate?.toISOString() ?? 'at an unknown time'})`;
  return FAILED_EXECUTION_STATUSES.includes(last.status ?? '')
    ? fail(`${described.name ?? deps.stateMachineArn}: ${summary}`)
    : pass(`${described.name ?? deps.stateMachineArn} active, ${summary}`);
}

/**
 * Both switches: the peer's through this region's SSM, this region's through the peer's. A switch
 * that cannot be read is 'unknown' and named in `unreadable`, never taken for released. A silent
 * peer costs at most readSwitch's 2 attempts of worstCaseCallMs (lambda/shared/cross-region.ts:
 * 2 x 9 s with the default timeouts), inside the check timeout (20 s, lib/observability/readiness-check.ts), so
 * the failure names the switch rather than the timeout.
 */
async function readSwitches(deps: ReadinessDependencies): Promise<{ positions: Record<string, SwitchPosition | 'unknown'>; unreadable: string[] }> {
  const readings = await Promise.all(
    (
      [
        [deps.peerRegion, deps.ssm],
        [deps.region, deps.peerSsm],
      ] as const
    ).map(async ([evacuatedRegion, ssm]): Promise<{ evacuatedRegion: string; position: SwitchPosition | 'unknown'; unreadable?: string }> => {
      const ref = switchRefOf(deps, evacuatedRegion);
      try {
        return { evacuatedRegion, position: await readSwitch(ssm, ref) };
      } catch (error) {
        return {
          evacuatedRegion,
          position: 'unknown',
          unreadable: `${evacuatedRegion}'s evacuation switch (${ref.parameterName} in ${ref.hostRegion}) unreadable: ${(error as Error).message}`,
        };
      }
    }),
  );
  return {
    positions: Object.fromEntries(readings.map((reading) => [reading.evacuatedRegion, reading.position])),
    unreadable: readings.flatMap((reading) => (reading.unreadable ? [reading.unreadable] : [])),
  };
}

/**
 * Are the regions where the active region's roles want them (lambda/shared/roles.ts)? The prober
 * puts drift right every minute, but not while automation is paused or a failover runs, and not a
 * switch in a region it cannot reach; an older version also left a drained standby after a
 * failback. The next failover would start from the wrong place, so a gap is a readiness failure.
 */
async function roles(deps: ReadinessDependencies): Promise<Verdict> {
  const secondaryRegion = secondaryRegionOf(deps);
  const [control, switches] = await Promise.all([
    awsCall(`read the control state from ${deps.controlTable}`, () => readControlState(deps.documents, deps.controlTable, deps.primaryRegion)),
    readSwitches(deps),
  ]);
  const plan = rolesFor(control.activeRegion, deps.primaryRegion, secondaryRegion);
  const problems = [...roleGaps(plan, control.drainedRegions, switches.positions), ...switches.unreadable];
  const summary = [plan.activeRegion, ...Object.keys(plan.states).filter((region) => region !== plan.activeRegion)]
    .map((region) => `${region} ${plan.states[region]}`)
    .join(', ');
  return problems.length > 0 ? fail(`roles want ${summary}: ${problems.join('; ')}`) : pass(summary);
}

/** The pause item's `since`: an ISO time as written, epoch milliseconds as an ISO time. */
function pausedSince(since: unknown): string {
  if (typeof since === 'string' && since.length > 0) return since;
  if (typeof since === 'number' && Number.isFinite(since)) return new Date(since).toISOString();
  return 'unknown';
}

/**
 * While operators have paused automation, the prober starts no failover: an outage of the primary
 * would move DNS (Route 53's own checks) but promote nothing. That is a readiness gap someone must
 * see every hour, not only when the pause was set.
 */
async function automation(deps: ReadinessDependencies): Promise<Verdict> {
  const response = await awsCall(`read ${ControlTableSchema.automationPauseItem} from ${deps.controlTable}`, () =>
    deps.documents.send(
      new GetCommand({ TableName: deps.controlTable, Key: { [ControlTableSchema.pk]: ControlTableSchema.automationPauseItem }, ConsistentRead: true }),
    ),
  );
  const pause = response.Item;
  if (!pause) return pass('automatic failover and failback on');
  const reason = typeof pause.reason === 'string' && pause.reason.length > 0 ? pause.reason : 'no reason given';
  return fail(`automatic failover and failback paused: ${reason} (since ${pausedSince(pause.since)})`);
}

const CHECKS: Record<ReadinessCheckName, (deps: ReadinessDependencies) => Promise<Verdict>> = {
  'own-health': ownHealth,
  'peer-health': peerHealth,
  database,
  'replication-lag': replicationLag,
  'global-tables': globalTables,
  'storage-replication': storageReplication,
  'state-machine': stateMachine,
  dns,
  roles,
  automation,
};

/** One check within its timeout; an exception or the timeout is that check's failure, with the message as detail. */
async function timed(
  name: ReadinessCheckName,
  deps: ReadinessDependencies,
  check: (deps: ReadinessDependencies) => Promise<Verdict>,
): Promise<ReadinessCheckResult> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${deps.checkTimeoutMs} ms`)), deps.checkTimeoutMs);
  });
  try {
    const verdict = await Promise.race([check(deps), timeout]);
    return { name, ok: verdict.ok, detail: verdict.detail, ms: Date.now() - started };
  } catch (error) {
    return { name, ok: false, detail: error instanceof Error ? error.message : String(error), ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

async function publishMetrics(report: ReadinessReport, deps: ReadinessDependencies): Promise<void> {
  const timestamp = new Date(deps.now());
  await awsCall(`publish readiness metrics to ${deps.metricNamespace}`, () =>
    deps.cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: deps.metricNamespace,
        MetricData: [
          ...report.checks.map((check) => ({
            MetricName: READINESS_CHECK_METRIC,
            Dimensions: [
              { Name: 'Region', Value: report.region },
              { Name: 'Check', Value: check.name },
            ],
            Value: check.ok ? 1 : 0,
            Unit: 'Count' as const,
            Timestamp: timestamp,
          })),
          {
            MetricName: READINESS_SUMMARY_METRIC,
            Dimensions: [{ Name: 'Region', Value: report.region }],
            Value: report.ready ? 1 : 0,
            Unit: 'Count' as const,
            Timestamp: timestamp,
          },
        ],
      }),
    ),
  );
}

async function publishFailure(report: ReadinessReport, deps: ReadinessDependencies): Promise<void> {
  const failing = report.checks.filter((check) => !check.ok).map((check) => check.name);
  await awsCall(`put the ${READINESS_FAILED_DETAIL_TYPE} event on ${deps.eventBusName}`, async () => {
    const response = await deps.events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: deps.eventBusName,
            Source: deps.eventSource,
            DetailType: READINESS_FAILED_DETAIL_TYPE,
            Detail: JSON.stringify({ region: report.region, failing, checks: report.checks }),
          },
        ],
      }),
    );
    const entry = response.Entries?.[0];
    if ((response.FailedEntryCount ?? 0) > 0 || entry?.ErrorCode)
      throw new Error(`event rejected: ${entry?.ErrorCode ?? 'unknown error'} ${entry?.ErrorMessage ?? ''}`.trim());
  });
}

/**
 * Runs every check, logs the report, publishes the metrics and, when a check failed, the event.
 * Throws only when publishing fails after its retries (the schedule retries; the metrics' missing
 * data alarms).
 */
export async function runReadiness(deps: ReadinessDependencies): Promise<ReadinessReport> {
  const checks = await Promise.all(READINESS_CHECKS.map((name) => timed(name, deps, CHECKS[name])));
  const report: ReadinessReport = { region: deps.region, ready: checks.every((check) => check.ok), checks };
  if (report.ready) deps.logger.info('failover readiness: ready', { ...report });
  else deps.logger.error('failover readiness: not ready', { ...report, failing: checks.filter((check) => !check.ok).map((check) => check.name) });
  await publishMetrics(report, deps);
  if (!report.ready) await publishFailure(report, deps);
  return report;
}

/** The EventBridge scheduled event: only its being an object is checked; its content is not used. */
export const ScheduledEventSchema = z.object({}, { error: 'expected an object (the EventBridge scheduled event)' });

/** The handler's work: validates the event, then runs the checks. */
export async function runScheduled(event: unknown, deps: ReadinessDependencies): Promise<ReadinessReport> {
  const parsed = ScheduledEventSchema.safeParse(event);
  if (!parsed.success) throw new Error(`invalid readiness event: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`);
  return runReadiness(deps);
}

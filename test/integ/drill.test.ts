import { randomBytes } from 'crypto';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateStateMachineCommand, HistoryEvent, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DrillDependencies, DrillOptions, ExecutionApi, ExecutionDescription, runDrill, sfnExecutionApi } from '../../integ/drill';
import { parseDrillArgs, UsageError } from '../../integ/drill-run';
import { parseConfig } from '../../lib/core/config';

/*
 * Against moto_server (AWS_ENDPOINT_URL from the global setup): the control table, the
 * CloudWatch metric and the state machine (created under our name, so StartExecution proves the
 * ARN the drill builds) are real moto resources.
 *
 * Why the executions are fed: moto 5.2.1 executes state machines only with the global
 * `{"stepfunctions": {"execute_state_machine": true}}` config (moto/core/config.py), which
 * switches every Step Functions call of the shared moto_server to another backend (the state
 * machines prober.test.ts and readiness.test.ts create vanish while it is on). Tried on a
 * private moto_server: the first execution of a Pass machine succeeds, every later StartExecution
 * answers HTTP 500 (`copy.deepcopy(state_machine)` in moto/stepfunctions/parser/models.py: "cannot
 * pickle '_thread.RLock' object"), and a Fail machine's execution stays RUNNING. So StartExecution
 * goes to moto (default, non-executing: its executions stay RUNNING, which the timeout test uses
 * as is), while DescribeExecution and GetExecutionHistory answers for the other tests are fed with
 * the output shape of lib/failover/failover-orchestrator.ts.
 */

const ACCOUNT = '123456789012';
const TARGET = 'us-east-2';
const OTHER = 'us-east-1';
const APP = 'trading-dr';

const sfn = new SFNClient({ region: TARGET });
const cloudwatch = new CloudWatchClient({ region: TARGET });
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: TARGET }));

function suffix(): string {
  return `d${randomBytes(4).toString('hex')}`;
}

/** The deployment's resources in moto: state machine, control table, optionally the metric. */
async function deployment(options: { activeRegion?: string; metric?: boolean } = {}): Promise<{ env: string; stateMachineArn: string; table: string }> {
  const env = suffix();
  const table = `ddb-control-${env}`;
  const { stateMachineArn } = await sfn.send(
    new CreateStateMachineCommand({
      name: `sfn-failover-use2-${env}`,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/role-failover-use2-${env}`,
      definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } }),
    }),
  );
  await documents.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    }),
  );
  if (options.activeRegion !== undefined) {
    await documents.send(
      new PutCommand({
        TableName: table,
        Item: { pk: 'active-region', activeRegion: options.activeRegion, fencingEpoch: 3, drainedRegions: new Set([OTHER]) },
      }),
    );
  }
  if (options.metric ?? true) {
    await cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: `${APP}/${env}`,
        MetricData: [
          {
            MetricName: 'FailoverDuration',
            Dimensions: [
              { Name: 'service', Value: 'failover-steps' },
              { Name: 'Outcome', Value: 'succeeded' },
            ],
            Timestamp: new Date(),
            Value: 95.5,
            Unit: 'Seconds',
          },
        ],
      }),
    );
  }
  return { env, stateMachineArn: stateMachineArn!, table };
}

/** The execution output of lib/failover/failover-orchestrator.ts after a successful run. */
function realisticOutput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    mode: 'planned',
    reason: 'drill test',
    preflight: { ready: true, problems: [], replicationLagMs: 850, control: { activeRegion: OTHER, fencingEpoch: 2 } },
    reconcile: { applied: 4, unreadable: 0, skipped: 0, complete: true, fencingEpoch: 3 },
    canary: { orderId: 'canary-1' },
    validation: { healthMs: 1200, dnsMs: 20_000, canaryAcceptedMs: 22_000, canaryProcessedMs: 25_000, canaryOrderId: 'canary-1' },
    ...overrides,
  };
}

// Five minutes ago, so the metric put now lies in the window the drill reads.
const START = new Date(Math.floor(Date.now() / 1000) * 1000 - 300_000);
const at = (seconds: number): Date => new Date(START.getTime() + seconds * 1000);

/**
 * History: reconcile ran twice (3 + 4 orders), validation task ended at +90 s. With
 * canaryProcessedMs 25 s, validation started at +65 s: DNS at +85 s, accepted +87 s, processed +90 s.
 */
function realisticHistory(): HistoryEvent[] {
  const exited = (name: string, seconds: number, output: unknown): HistoryEvent => ({
    id: 0,
    type: 'TaskStateExited',
    timestamp: at(seconds),
    stateExitedEventDetails: { name, output: JSON.stringify(output) },
  });
  return [
    { id: 1, type: 'ExecutionStarted', timestamp: at(0) },
    exited('Reconcile: replay journal', 40, { reconcile: { applied: 3, complete: false } }),
    exited('Reconcile: replay journal', 50, { reconcile: { applied: 4, complete: true } }),
    { id: 2, type: 'TaskStateEntered', timestamp: at(60), stateEnteredEventDetails: { name: 'Validate: region serves' } },
    { id: 3, type: 'TaskFailed', timestamp: at(62) },
    { id: 4, type: 'TaskSucceeded', timestamp: at(90) },
    { id: 5, type: 'TaskStateExited', timestamp: at(90.2), stateExitedEventDetails: { name: 'Validate: region serves' } },
    { id: 6, type: 'ExecutionSucceeded', timestamp: at(120) },
  ];
}

/** StartExecution goes to moto; DescribeExecution answers `RUNNING` `runningPolls` times, then `final`. */
function fedExecutions(
  final: Partial<ExecutionDescription>,
  history: HistoryEvent[] = realisticHistory(),
  runningPolls = 2,
): ExecutionApi & { started: string[] } {
  const real = sfnExecutionApi(sfn);
  const started: string[] = [];
  let polls = 0;
  return {
    started,
    start: async (arn, name, input) => {
      const result = await real.start(arn, name, input);
      started.push(input);
      return result;
    },
    describe: async () => {
      polls += 1;
      if (polls <= runningPolls) return { status: 'RUNNING', startDate: START };
      return { status: 'SUCCEEDED', startDate: START, stopDate: at(120), output: JSON.stringify(realisticOutput()), ...final };
    },
    history: async () => history,
  };
}

/** A fake clock that moves only when the drill sleeps. */
function deps(executions: ExecutionApi): DrillDependencies & { lines: string[]; sleeps: number[] } {
  let clock = START.getTime();
  const lines: string[] = [];
  const sleeps: number[] = [];
  return {
    executions,
    documents,
    cloudwatch,
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    print: (line) => lines.push(line),
    lines,
    sleeps,
  };
}

function options(env: string, overrides: Partial<DrillOptions> = {}): DrillOptions {
  return {
    appName: APP,
    environmentSuffix: env,
    account: ACCOUNT,
    targetRegion: TARGET,
    otherRegion: OTHER,
    mode: 'planned',
    reason: 'drill test',
    targets: { trafficSeconds: 90, totalSeconds: 900 },
    pollMs: 1000,
    timeoutMs: 60_000,
    metricAttempts: 2,
    ...overrides,
  };
}

describe('runDrill against moto', () => {
  test('a successful drill prints its figures and passes', async () => {
    const { env, stateMachineArn } = await deployment({ activeRegion: TARGET });
    const executions = fedExecutions({});
    const d = deps(executions);
    const report = await runDrill(options(env), d);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.executionArn).toContain(`:execution:sfn-failover-use2-${env}:drill-use2-`);
    expect(report.executionArn.startsWith(stateMachineArn.replace(':stateMachine:', ':execution:'))).toBe(true);
    expect(JSON.parse(executions.started[0])).toEqual({ mode: 'planned', reason: 'drill test' });
    expect(report.figures).toEqual({
      trafficSeconds: 85,
      canaryAcceptedSeconds: 87,
      canaryProcessedSeconds: 90,
      replicationLagMs: 850,
      ordersReconciled: 7,
      totalSeconds: 120,
      recordedFailoverSeconds: 95.5,
    });
    const printed = d.lines.join('\n');
    expect(printed).toMatch(/traffic \(start -> DNS answers target\)\s+85 s\s+90 s\s+ok/);
    expect(printed).toMatch(/Aurora replication lag at cutover\s+850 ms/);
    expect(printed).toMatch(/orders reconciled\s+7/);
    expect(printed).toMatch(/total \(execution start -> stop\)\s+120 s\s+900 s\s+ok/);
    expect(printed).toContain('drill passed');
    // Backoff: the pauses between polls double.
    expect(d.sleeps.slice(0, 2)).toEqual([1000, 2000]);
  });

  test('an unknown replication lag and no reconcile passes in the history are reported as such', async () => {
    const { env } = await deployment({ activeRegion: TARGET });
    const history = realisticHistory().filter((event) => event.stateExitedEventDetails?.name !== 'Reconcile: replay journal');
    const output = realisticOutput({ preflight: { ready: true, replicationLagMs: null } });
    const d = deps(fedExecutions({ output: JSON.stringify(output) }, history));
    const report = await runDrill(options(env), d);
    expect(report.ok).toBe(true);
    expect(report.figures.replicationLagMs).toBeNull();
    expect(report.figures.ordersReconciled).toBe(4);
    expect(d.lines.join('\n')).toMatch(/Aurora replication lag at cutover\s+unknown/);
  });

  test('a FAILED execution fails the drill with its error and cause', async () => {
    const { env } = await deployment({ activeRegion: OTHER });
    const report = await runDrill(
      options(env),
      deps(fedExecutions({ status: 'FAILED', output: undefined, error: 'PreflightFailed', cause: '["us-east-1 does not answer"]' })),
    );
    expect(report.ok).toBe(false);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatch(/ended FAILED: PreflightFailed: \["us-east-1 does not answer"\]/);
  });

  test.each(['TIMED_OUT', 'ABORTED'])('a %s execution fails the drill', async (status) => {
    const { env } = await deployment({ activeRegion: TARGET });
    const report = await runDrill(options(env), deps(fedExecutions({ status, output: undefined })));
    expect(report.problems[0]).toContain(`ended ${status}: no error: no cause`);
  });

  test('a control table that does not name the target fails the drill', async () => {
    const { env, table } = await deployment({ activeRegion: OTHER });
    const report = await runDrill(options(env), deps(fedExecutions({})));
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([`control table ${table} names ${OTHER} as the active region, not ${TARGET}`]);
  });

  test('a control table without the active-region item fails the drill', async () => {
    const { env, table } = await deployment();
    const report = await runDrill(options(env), deps(fedExecutions({})));
    expect(report.problems).toEqual([`control table ${table} has no active-region item: the failover did not fence`]);
  });

  test('a missing FailoverDuration metric fails the drill after looking a few times', async () => {
    const { env } = await deployment({ activeRegion: TARGET, metric: false });
    const d = deps(fedExecutions({}));
    const report = await runDrill(options(env, { metricAttempts: 3 }), d);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      `metric FailoverDuration (namespace ${APP}/${env}, service=failover-steps, Outcome=succeeded) has no datapoint after 3 look(s): the record step did not publish it`,
    ]);
    expect(report.figures.recordedFailoverSeconds).toBeNull();
  });

  test('a validation result missing from the output fails the drill', async () => {
    const { env } = await deployment({ activeRegion: TARGET });
    const output = realisticOutput({ validation: { healthMs: 1 } });
    const report = await runDrill(options(env), deps(fedExecutions({ output: JSON.stringify(output) })));
    expect(report.problems).toEqual([
      expect.stringContaining(
        "validation did not pass: the execution output's validation is incomplete (missing dnsMs, canaryAcceptedMs, canaryProcessedMs, canaryOrderId)",
      ),
    ]);
  });

  test('a succeeded execution whose output is not JSON fails the drill, quoting the output', async () => {
    const { env } = await deployment({ activeRegion: TARGET });
    const report = await runDrill(options(env), deps(fedExecutions({ output: 'not json' })));
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([expect.stringMatching(/succeeded but its output is not JSON \(not json\)$/)]);
  });

  test('an unreadable history fails the drill after its retries, and the timing figures stay unknown', async () => {
    const { env } = await deployment({ activeRegion: TARGET });
    const executions = {
      ...fedExecutions({}),
      history: async (): Promise<HistoryEvent[]> => {
        throw new Error('AccessDeniedException: not authorized to GetExecutionHistory');
      },
    };
    const report = await runDrill(options(env), deps(executions));
    expect(report.problems).toEqual([
      expect.stringMatching(/^execution history unreadable: .*AccessDeniedException: not authorized to GetExecutionHistory/),
      `the history has no 'Validate: region serves' state: the times to DNS and to the first order are unknown`,
    ]);
    expect(report.figures.trafficSeconds).toBeNull();
    expect(report.figures.canaryProcessedSeconds).toBeNull();
  });

  test('a history without the validation state fails the drill, saying which figures are unknown', async () => {
    const { env } = await deployment({ activeRegion: TARGET });
    const history = realisticHistory().filter((event) => event.type !== 'TaskSucceeded' && event.stateExitedEventDetails?.name !== 'Validate: region serves');
    const report = await runDrill(options(env), deps(fedExecutions({}, history)));
    expect(report.problems).toEqual([`the history has no 'Validate: region serves' state: the times to DNS and to the first order are unknown`]);
  });

  test('an execution without a stop date fails the drill: its total is unknown', async () => {
    const { env } = await deployment({ activeRegion: TARGET });
    const report = await runDrill(options(env), deps(fedExecutions({ stopDate: undefined })));
    expect(report.problems).toEqual(['total duration unknown: the execution has no stop date']);
    expect(report.figures.totalSeconds).toBeNull();
  });

  test('a traffic figure over its target fails the drill and names both', async () => {
    const { env } = await deployment({ activeRegion: TARGET });
    const d = deps(fedExecutions({}));
    const report = await runDrill(options(env, { targets: { trafficSeconds: 60, totalSeconds: 900 } }), d);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([`traffic figure 85 s (execution start -> DNS answers ${TARGET}) exceeds the target trafficSeconds 60 s`]);
    expect(d.lines.join('\n')).toMatch(/traffic \(start -> DNS answers target\)\s+85 s\s+60 s\s+OVER/);
  });

  test('a total over its target fails the drill and names both', async () => {
    const { env } = await deployment({ activeRegion: TARGET });
    const report = await runDrill(options(env, { targets: { trafficSeconds: 90, totalSeconds: 100 } }), deps(fedExecutions({})));
    expect(report.problems).toEqual(['total duration 120 s exceeds the target totalSeconds 100 s']);
  });

  test('an execution that never ends within timeoutMs fails the drill (moto keeps it RUNNING)', async () => {
    const { env } = await deployment({ activeRegion: TARGET });
    // Real moto throughout: its non-executing backend leaves every execution RUNNING.
    const d = deps(sfnExecutionApi(sfn));
    const report = await runDrill(options(env, { timeoutMs: 10_000 }), d);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([`execution ${report.executionArn} did not end within 10000 ms (still RUNNING; it was not stopped)`]);
    expect(d.sleeps.reduce((sum, ms) => sum + ms, 0)).toBe(10_000);
  });

  test('a state machine that does not exist under our name fails the drill', async () => {
    const report = await runDrill(options(suffix()), deps(sfnExecutionApi(sfn)));
    expect(report.problems).toEqual([
      expect.stringMatching(/^could not start arn:aws:states:us-east-2:123456789012:stateMachine:sfn-failover-use2-d[0-9a-f]{8}: /),
    ]);
  });

  test('prints a line per status or state change it sees while polling, and none while nothing changes', async () => {
    const { env } = await deployment({ activeRegion: TARGET });
    // DescribeExecution fed (RUNNING four times, then SUCCEEDED); the current state fed per poll.
    const states = ['Preflight: target ready', 'Preflight: target ready', 'Promote: switchover', 'Promote: switchover'];
    const executions = { ...fedExecutions({}, realisticHistory(), 4), currentState: async () => states.shift() };
    const d = deps(executions);
    const report = await runDrill(options(env), d);
    expect(report.ok).toBe(true);
    const progress = d.lines.filter((line) => line.startsWith('execution '));
    expect(progress).toEqual([
      `execution started: ${report.executionArn}`,
      "execution RUNNING: state 'Preflight: target ready'",
      "execution RUNNING: state 'Promote: switchover'",
      'execution SUCCEEDED',
    ]);
  });

  test('the account comes from the caller identity when not given', async () => {
    const { env } = await deployment({ activeRegion: TARGET });
    const d = { ...deps(fedExecutions({})), callerAccount: async () => ACCOUNT };
    const report = await runDrill(options(env, { account: undefined }), d);
    expect(report.ok).toBe(true);
  });
});

describe('the DNS watch', () => {
  test('measures traffic from execution start to the first answer with the target, as the drill saw it', async () => {
    const { env } = await deployment({ activeRegion: TARGET });
    const d = deps(fedExecutions({}, realisticHistory(), 6));
    const answers = [
      'd-old.execute-api.us-east-1.amazonaws.com',
      'd-old.execute-api.us-east-1.amazonaws.com',
      'd-old.execute-api.us-east-1.amazonaws.com',
      'D-NEW.execute-api.us-east-2.amazonaws.com.',
    ];
    const report = await runDrill(options(env, { dns: { hostName: 'api.trading.example.com', targetName: 'd-new.execute-api.us-east-2.amazonaws.com' } }), {
      ...d,
      resolveCname: async () => [answers.shift() ?? 'd-new.execute-api.us-east-2.amazonaws.com'],
    });
    expect(report.problems).toEqual([]);
    // Watched every pollMs (1 s) from the start: the fourth lookup, 3 s in, saw the target.
    expect(report.figures.trafficSeconds).toBe(3);
    expect(d.sleeps.slice(0, 4)).toEqual([1000, 1000, 1000, 1000]);
    expect(d.lines.filter((line) => line.startsWith('DNS:'))).toEqual(['DNS: api.trading.example.com answers d-new.execute-api.us-east-2.amazonaws.com']);
  });

  test('says so, and falls back to the validation bound, when the target never answered', async () => {
    const { env } = await deployment({ activeRegion: TARGET });
    const d = deps(fedExecutions({}));
    const report = await runDrill(options(env, { dns: { hostName: 'api.trading.example.com', targetName: 'd-new.execute-api.us-east-2.amazonaws.com' } }), {
      ...d,
      resolveCname: async () => ['d-old.execute-api.us-east-1.amazonaws.com'],
    });
    expect(report.figures.trafficSeconds).toBe(85);
    expect(report.problems).toEqual([
      "api.trading.example.com never resolved to d-new.execute-api.us-east-2.amazonaws.com while the drill watched; the traffic figure is the validation step's upper bound",
    ]);
  });
});

describe('parseDrillArgs', () => {
  const today = new Date('2026-11-25T08:00:00Z');

  test('defaults', () => {
    expect(parseDrillArgs(['--env', 'test'], today)).toEqual({
      appName: 'trading-dr',
      environmentSuffix: 'test',
      account: undefined,
      targetRegion: 'us-east-2',
      otherRegion: 'us-east-1',
      mode: 'planned',
      reason: 'drill 2026-11-25',
      targets: { trafficSeconds: parseConfig({}).failoverTargetSeconds, totalSeconds: 900 },
      pollMs: 5000,
      timeoutMs: 1_800_000,
    });
  });

  test('every option', () => {
    const parsed = parseDrillArgs(
      [
        '--env',
        'dev1',
        '--target',
        'us-east-1',
        '--reason',
        'failback drill',
        '--app',
        'orders',
        '--account',
        '111122223333',
        '--traffic-target-seconds',
        '45',
        '--total-target-seconds',
        '600',
      ],
      today,
    );
    expect(parsed).toMatchObject({
      appName: 'orders',
      environmentSuffix: 'dev1',
      account: '111122223333',
      targetRegion: 'us-east-1',
      otherRegion: 'us-east-2',
      reason: 'failback drill',
      targets: { trafficSeconds: 45, totalSeconds: 600 },
    });
  });

  test.each([
    [[], '--env <suffix> is required'],
    [['--target', 'us-east-2'], '--env <suffix> is required'],
    [['--env'], '--env needs a value'],
    [['--env', '--target'], '--env needs a value'],
    [['--env', 'Test'], "--env must be lower-case letters, digits and single hyphens, not 'Test'"],
    [['--env', 'test', '--target', 'eu-west-1'], "--target must be one of us-east-1, us-east-2, not 'eu-west-1'"],
    [['--env', 'test', '--traffic-target-seconds', 'soon'], "--traffic-target-seconds must be a positive whole number of seconds, not 'soon'"],
    [['--env', 'test', '--total-target-seconds', '0'], "--total-target-seconds must be a positive whole number of seconds, not '0'"],
    [['--env', 'test', '--account', '123'], "--account must be 12 digits, not '123'"],
    [['--env', 'test', '--verbose', 'yes'], "unknown argument '--verbose'"],
    [['--env', 'a', '--env', 'b'], '--env given twice'],
  ])('%j is a usage error: %s', (argv, message) => {
    let thrown: unknown;
    try {
      parseDrillArgs(argv as string[], today);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    expect((thrown as Error).message).toContain(message);
    expect((thrown as Error).message).toContain('usage: npm run drill -- --env <suffix>');
  });
});

import { randomBytes } from 'crypto';
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { PASS_RESERVE_MS, KEEPER_TIMEOUT_SECONDS } from '../../lambda/contracts/switch-keeper';
import { keepSwitch, type KeeperOutcome } from '../../lambda/switch-keeper/keeper';
import { publishSwitch } from '../../lambda/shared/switches';
import { SwitchPosition, type SwitchRef } from '../../lambda/contracts/switches';
import { EVACUATION_ALARM, switchRefFor } from '../../lib/routing/evacuation-switch';
import { Naming } from '../../lib/core/naming';
import { silentLogger } from '../helpers/aws';
import { Datapoint, healthTimeline } from '../helpers/route53-alarm-check';

/**
 * The switch keeper against moto_server (the parameter in SSM, the datapoints in CloudWatch), on
 * a virtual clock: waits advance it, and the datapoints carry its timestamps. What Route 53 would
 * make of the resulting data stream comes from the model in test/helpers/route53-alarm-check.ts,
 * with the alarm settings the deployed alarm uses (EVACUATION_ALARM).
 */

const HOST = 'us-east-2';
const EVACUATED = 'us-east-1';
/** A minute boundary: CloudWatch's one-minute periods start here. */
const T0 = Date.parse('2025-06-01T12:00:00.000Z');
const MINUTE = 60_000;
/** EventBridge runs the keeper a few seconds into each minute. */
const RUN_OFFSET_MS = 5_000;

const ssm = new SSMClient({ region: HOST });
const cloudwatch = new CloudWatchClient({ region: HOST });

afterAll(() => {
  ssm.destroy();
  cloudwatch.destroy();
});

/** A switch of its own per test: a fresh suffix gives a fresh parameter and namespace in moto. */
function newSwitch(): SwitchRef {
  const naming = new Naming({ appName: 'trading-dr', environmentSuffix: `k${randomBytes(4).toString('hex')}`, account: '123456789012', region: HOST });
  return switchRefFor(naming, EVACUATED, HOST);
}

/** Time, moved only by the keeper's waits; actions scheduled for a moment run when time passes it. */
class VirtualClock {
  public now = T0;
  private readonly scheduled: Array<{ at: number; action: () => Promise<void> }> = [];

  /** Runs `action` when time reaches `at`. */
  at(at: number, action: () => Promise<void>): void {
    this.scheduled.push({ at, action });
    this.scheduled.sort((a, b) => a.at - b.at);
  }

  /** Moves to `until`, running what was scheduled on the way, at its own time. */
  async advanceTo(until: number): Promise<void> {
    while (this.scheduled.length > 0 && this.scheduled[0].at <= until) {
      const next = this.scheduled.shift()!;
      this.now = Math.max(this.now, next.at);
      await next.action();
    }
    this.now = Math.max(this.now, until);
  }
}

/** One scheduled run of the keeper, starting at `startsAt`, with the function's timeout. */
async function runKeeper(
  ref: SwitchRef,
  clock: VirtualClock,
  startsAt: number,
  options: { ssmClient?: SSMClient; timeoutMs?: number } = {},
): Promise<KeeperOutcome> {
  await clock.advanceTo(startsAt);
  const deadline = startsAt + (options.timeoutMs ?? KEEPER_TIMEOUT_SECONDS * 1000);
  return keepSwitch({
    ssm: options.ssmClient ?? ssm,
    cloudwatch,
    ref,
    publishesPerMinute: 3,
    reserveMs: PASS_RESERVE_MS,
    now: () => clock.now,
    sleep: (ms) => clock.advanceTo(clock.now + ms),
    remainingMs: () => deadline - clock.now,
    logger: silentLogger,
  });
}

/** Runs every minute from `fromMinute` to `toMinute` (inclusive), a few seconds into each. */
async function keepRunning(ref: SwitchRef, clock: VirtualClock, fromMinute: number, toMinute: number): Promise<void> {
  for (let minute = fromMinute; minute <= toMinute; minute++) await runKeeper(ref, clock, T0 + minute * MINUTE + RUN_OFFSET_MS);
}

async function putPosition(ref: SwitchRef, position: SwitchPosition): Promise<void> {
  await ssm.send(new PutParameterCommand({ Name: ref.parameterName, Value: position, Type: 'String', Overwrite: true }));
}

/** What the orchestrator or an operator does (setSwitch): the parameter, then one datapoint at once, at virtual time. */
async function setSwitchAt(ref: SwitchRef, clock: VirtualClock, position: SwitchPosition): Promise<void> {
  await putPosition(ref, position);
  await publishSwitch(cloudwatch, ref, position, new Date(clock.now));
}

/**
 * Every datapoint of the switch's metric, oldest first. A one-second period returns each datapoint
 * as put (moto keeps them as given; CloudWatch itself would hold a standard-resolution metric to
 * one-minute periods): the model does the per-period aggregation Route 53 relies on.
 */
async function dataStream(ref: SwitchRef): Promise<Datapoint[]> {
  const { Datapoints } = await cloudwatch.send(
    new GetMetricStatisticsCommand({
      Namespace: ref.namespace,
      MetricName: ref.metricName,
      Dimensions: [{ Name: 'Region', Value: ref.evacuatedRegion }],
      StartTime: new Date(T0 - MINUTE),
      EndTime: new Date(T0 + 30 * MINUTE),
      Period: 1,
      Statistics: ['Maximum'],
    }),
  );
  return (Datapoints ?? []).map((point) => ({ timestamp: point.Timestamp!.getTime(), value: point.Maximum! })).sort((a, b) => a.timestamp - b.timestamp);
}

const minutes = (count: number, status: 'healthy' | 'unhealthy') => Array<string>(count).fill(status);

/** An SSM client whose reads fail after the first `succeeding` ones, as an unreachable endpoint would. */
function readsFailingAfter(succeeding: number): SSMClient {
  const client = new SSMClient({ region: HOST, maxAttempts: 1 });
  let reads = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      reads++;
      if (reads > succeeding) throw Object.assign(new Error('connect ETIMEDOUT (injected)'), { name: 'TimeoutError' });
      return next(args);
    },
    { step: 'initialize', name: 'injectReadFailure' },
  );
  return client;
}

describe('one run of the switch keeper', () => {
  it('publishes a thrown switch as three datapoints of 1, 20 s apart, within the minute', async () => {
    const ref = newSwitch();
    const clock = new VirtualClock();
    await putPosition(ref, SwitchPosition.thrown);

    const outcome = await runKeeper(ref, clock, T0 + RUN_OFFSET_MS);

    expect(outcome.passes).toEqual([5, 25, 45].map((second) => ({ at: new Date(T0 + second * 1000).toISOString(), position: 'thrown', source: 'parameter' })));
    expect(await dataStream(ref)).toEqual([5, 25, 45].map((second) => ({ timestamp: T0 + second * 1000, value: 1 })));
  });

  it('publishes a released switch as datapoints of 0', async () => {
    const ref = newSwitch();
    await putPosition(ref, SwitchPosition.released);

    await runKeeper(ref, new VirtualClock(), T0 + RUN_OFFSET_MS);

    expect((await dataStream(ref)).map((point) => point.value)).toEqual([0, 0, 0]);
  });

  it('does not start a pass it cannot finish before the function times out', async () => {
    const ref = newSwitch();
    await putPosition(ref, SwitchPosition.thrown);

    // 30 s left: the passes at 0 s and 20 s fit, the one at 40 s would start after the timeout.
    const outcome = await runKeeper(ref, new VirtualClock(), T0 + RUN_OFFSET_MS, { timeoutMs: 30_000 });

    expect(outcome.passes).toHaveLength(2);
    expect(await dataStream(ref)).toHaveLength(2);
  });
});

describe('what Route 53 sees in the data stream (alarm: Maximum over 60 s, >= 1, one period)', () => {
  it('shows the old switch releasing itself: one datapoint of 1 with InsufficientDataHealthStatus Healthy is healthy again two minutes later', async () => {
    const ref = newSwitch();
    const clock = new VirtualClock();
    await clock.advanceTo(T0 + 10_000);
    // The old throw: one datapoint, no keeper.
    await publishSwitch(cloudwatch, ref, SwitchPosition.thrown, new Date(clock.now));

    const timeline = healthTimeline(await dataStream(ref), EVACUATION_ALARM, 'Healthy', T0, 3);

    // Thrown for the one period that holds the datapoint, then a period without data counts as healthy.
    expect(timeline).toEqual(['unhealthy', 'healthy', 'healthy']);
  });

  it('stays thrown for ten minutes with the keeper publishing every minute and LastKnownStatus', async () => {
    const ref = newSwitch();
    const clock = new VirtualClock();
    await putPosition(ref, SwitchPosition.released);
    clock.at(T0 + 10_000, () => setSwitchAt(ref, clock, SwitchPosition.thrown));

    await keepRunning(ref, clock, 0, 9);
    const stream = await dataStream(ref);

    expect(healthTimeline(stream, EVACUATION_ALARM, 'LastKnownStatus', T0, 10)).toEqual(minutes(10, 'unhealthy'));
    // Every minute has data, so the stream alone holds the switch, whatever the setting.
    expect(healthTimeline(stream, EVACUATION_ALARM, 'Healthy', T0, 10)).toEqual(minutes(10, 'unhealthy'));
  });

  it('after a throw and a release in the same minute, is healthy from the next minute once the keeper publishes released', async () => {
    const ref = newSwitch();
    const clock = new VirtualClock();
    await putPosition(ref, SwitchPosition.released);
    clock.at(T0 + 10_000, () => setSwitchAt(ref, clock, SwitchPosition.thrown));
    clock.at(T0 + 30_000, () => setSwitchAt(ref, clock, SwitchPosition.released));

    await keepRunning(ref, clock, 0, 9);
    const stream = await dataStream(ref);

    // Minute 0 holds a 1 (the throw, and the keeper's pass at 25 s), so its Maximum is 1; the
    // keeper's zeros in minute 1 clear it.
    expect(healthTimeline(stream, EVACUATION_ALARM, 'LastKnownStatus', T0, 10)).toEqual(['unhealthy', ...minutes(9, 'healthy')]);
    // Without the keeper the 1 and the 0 of minute 0 are the last data: the switch stays thrown.
    const throwAndRelease = stream.filter((point) => point.timestamp === T0 + 10_000 || point.timestamp === T0 + 30_000);
    expect(throwAndRelease).toEqual([
      { timestamp: T0 + 10_000, value: 1 },
      { timestamp: T0 + 30_000, value: 0 },
    ]);
    expect(healthTimeline(throwAndRelease, EVACUATION_ALARM, 'LastKnownStatus', T0, 10)).toEqual(minutes(10, 'unhealthy'));
  });

  it.each([
    [SwitchPosition.thrown, 'unhealthy'],
    [SwitchPosition.released, 'healthy'],
  ] as const)('keeps a %s switch %s with LastKnownStatus after the keeper stops', async (position, status) => {
    const ref = newSwitch();
    const clock = new VirtualClock();
    await putPosition(ref, position);

    await keepRunning(ref, clock, 0, 2);
    const stream = await dataStream(ref);

    // Data in minutes 0-2, none after (keeper or host region down).
    expect(healthTimeline(stream, EVACUATION_ALARM, 'LastKnownStatus', T0, 10)).toEqual(minutes(10, status));
    if (position === SwitchPosition.thrown) {
      // With the old setting the same stop would have released the switch.
      expect(healthTimeline(stream, EVACUATION_ALARM, 'Healthy', T0, 10)).toEqual([...minutes(3, 'unhealthy'), ...minutes(7, 'healthy')]);
    }
  });
});

describe('a switch that cannot be read', () => {
  it('publishes nothing and fails the run, naming the parameter, when no position was read in the run', async () => {
    const ref = newSwitch();
    await putPosition(ref, SwitchPosition.thrown);
    const failing = readsFailingAfter(0);
    try {
      await expect(runKeeper(ref, new VirtualClock(), T0 + RUN_OFFSET_MS, { ssmClient: failing })).rejects.toThrow(
        `cannot read the evacuation switch ${ref.parameterName} in ${HOST} and no position was read earlier in this run; nothing published`,
      );
    } finally {
      failing.destroy();
    }
    expect(await dataStream(ref)).toEqual([]);
  });

  it('keeps publishing the position read earlier in the run, never released, and fails the run', async () => {
    const ref = newSwitch();
    await putPosition(ref, SwitchPosition.thrown);
    const failing = readsFailingAfter(1);
    try {
      await expect(runKeeper(ref, new VirtualClock(), T0 + RUN_OFFSET_MS, { ssmClient: failing })).rejects.toThrow(
        `3 of 3 passes published the evacuation switch ${ref.parameterName} of ${EVACUATED}; pass 2: read failed`,
      );
    } finally {
      failing.destroy();
    }
    expect((await dataStream(ref)).map((point) => point.value)).toEqual([1, 1, 1]);
  });
});

import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { PutCommand, DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { probeOnce, ProberDependencies } from '../../lambda/prober/prober';
import { fetchGet } from '../../lambda/shared/health-probe';
import { orderKeyOf } from '../../lambda/shared/order';
import { roleGaps, rolesFor } from '../../lambda/shared/roles';
import { switchValue, parsePosition } from '../../lambda/shared/switches';
import { ControlTableSchema } from '../../lambda/contracts/tables';
import { readControlState } from '../../lambda/shared/control';
import { documents, silentLogger } from '../helpers/aws';
import { ExecutionResult } from '../helpers/state-machine';
import { loseFirstAnswer, peerOf, PRIMARY, Region, REGIONS, RunOptions, SECONDARY, TARGETS, World, WorldFixture } from '../helpers/two-region-world';
import type { SimulationFixture } from './fixture';
import { OrderQueueModel } from './order-queue';
import { OrderTraffic } from './order-traffic';
import { installReadCache } from './read-cache';
import { TimedRoute53 } from './route53-timed';
import { Event, Isolation, RunFault, Sequence } from './sequences';

/**
 * One simulated sequence: the real prober, both regions' real state machines and step code, on a
 * virtual clock, against the models (Aurora: test/helpers/aurora-global.ts; Route 53 with its
 * checkers' timing: route53-timed.ts; the evacuation switches' data streams), with the faults of
 * the sequence, and the invariants checked after every tick and every run.
 */

/** The invariants; `required` ones fail a seed, the others are reported. */
export const INVARIANTS = {
  'run-ends': { required: true, what: 'every run ends (succeeded or failed), and a failed run raised an alert' },
  'lock-released': { required: true, what: 'no failover lock outlives its run' },
  roles: { required: true, what: 'after every run, and between runs, the regions are in the states the roles table says' },
  'standby-ready': { required: true, what: 'while us-east-1 is active, us-east-2 is a healthy SECONDARY: if us-east-1 failed next, DNS would move' },
  'no-needless-data-loss': { required: true, what: "no failover allowing data loss starts while the primary's control plane answers" },
  'no-needless-failover': {
    required: true,
    what: "the prober starts no failover while Route 53's checkers see the primary healthy (one vantage point, a blip, flapping)",
  },
  'planned-succeeds': { required: true, what: 'a planned run with both regions sound and no fault injected into it succeeds' },
  converges: { required: true, what: 'once the faults heal, the writer, the active region and DNS agree (on us-east-1 after failback)' },
  'one-committer': {
    required: true,
    what: "at most one region's commits survive: every order in the writer was committed by the region active under its epoch, before that epoch ended",
  },
  'orders-applied': {
    required: true,
    what: 'every acknowledged order is in the writer exactly once, with its own orderId, within 2 minutes of its acknowledgement (or of the promotion after it)',
  },
} as const;
export type InvariantName = keyof typeof INVARIANTS;

export interface Violation {
  readonly invariant: InvariantName;
  readonly at: number;
  readonly detail: string;
}

export interface SequenceReport {
  readonly sequence: string;
  readonly seed: number;
  readonly ticks: number;
  readonly simulatedSeconds: number;
  readonly runs: { region: Region; mode: string; status: string; error?: string }[];
  readonly violations: Violation[];
  /** Invariants this simulation does not check yet. */
  readonly notChecked: InvariantName[];
  readonly orders: OrderFigures;
}

/** What happened to the orders of a sequence. */
export interface OrderFigures {
  readonly acknowledged: number;
  readonly inWriter: number;
  readonly lostInFailovers: number;
  /** Orders an old writer committed while cut off, discarded when it rejoined. */
  readonly discardedAtRejoin: number;
  readonly deadLettered: number;
  readonly blockedInvocations: number;
  readonly lostWriteAnswers: number;
}

/** The simulation's tick: the prober's probe interval and the checkers' request interval. */
const TICK_MS = 10_000;
/** How long the standby may stay unhealthy while us-east-1 is active before it counts (the checkers' and the keeper's own delay). */
const STANDBY_GRACE_MS = 3 * 60_000;
/** The end-to-end bound of an acknowledged order (the README's data section). */
const ORDER_BOUND_MS = 2 * 60_000;
/** How often the order invariants are checked (they read both databases). */
const ORDER_CHECK_MS = 60_000;
/** Step Functions refuses a reused execution name for 90 days (StartExecution API reference). */
const NAME_REUSE_MS = 90 * 24 * 3600_000;
const START = Date.parse('2026-12-01T14:00:00.000Z');

/** What a drill driving the simulation sees after each tick (test/integ/unplanned-drill.test.ts). */
export interface SimulationView {
  readonly clock: number;
  /** The region Route 53 answers with now. */
  readonly dnsRegion: Region;
  readonly activeRegion: string;
  readonly runs: readonly SimulatedRun[];
}

/** A finished run of one region's state machine, on the virtual clock. */
export interface SimulatedRun {
  readonly executionArn: string;
  readonly region: Region;
  readonly mode: string;
  readonly status: string;
  readonly startedAt: number;
  readonly stoppedAt: number;
  readonly promotion?: string;
  /** The run validated with a canary order (accepted by the time it stopped). */
  readonly canaryAcceptedAt?: number;
}

/** Called after every tick; the events it returns happen at once. */
export type SimulationObserver = (view: SimulationView) => Promise<Event[]>;

interface QueuedRun {
  readonly region: Region;
  readonly input: Record<string, unknown>;
  readonly by: string;
}

export class Simulation {
  private clock = START;
  private readonly world: World;
  private readonly route53: TimedRoute53;
  private readonly queue: QueuedRun[] = [];
  private readonly names = new Map<string, number>();
  private readonly faults: RunFault[] = [];
  private readonly violations: Violation[] = [];
  private readonly runs: SequenceReport['runs'] = [];
  private readonly finishedRuns: SimulatedRun[] = [];
  private proberPathBroken = false;
  private running = false;
  private standbyUnhealthySince?: number;
  private readonly prober: ProberDependencies;
  private readonly fixture: WorldFixture;
  private readonly queues: Record<Region, OrderQueueModel>;
  private readonly traffic: OrderTraffic;
  /** Route 53's answer at each step, for clients that keep an old one. */
  private readonly answers: { at: number; target: string }[] = [];
  /** Each epoch's active region, and the real time it ended (a commit's clock is the database's). */
  private readonly epochs = new Map<number, { region: string; endedAt?: number }>([[0, { region: PRIMARY }]]);
  private promotedAt = START;
  private lastOrderCheck = START;
  private readonly lastReconcile: Record<Region, number> = { [PRIMARY]: START, [SECONDARY]: START };
  private readonly reportedOrders = new Set<string>();
  /** Regions cut off from the outside while their functions run, and how their DynamoDB fares. */
  private readonly isolated = new Map<Region, Isolation>();

  constructor(
    private readonly simulationFixture: SimulationFixture,
    private readonly sequence: Sequence,
    private readonly seed: number,
    private readonly observer?: SimulationObserver,
  ) {
    installReadCache();
    const fixture = simulationFixture.world;
    this.fixture = fixture;
    const { config } = fixture.deployment;
    this.world = new World(fixture);
    this.world.now = () => this.clock;
    this.world.sleep = (ms) => this.advance(ms);
    this.world.validationTimeoutMs = config.validationTimeoutSeconds * 1000;
    this.world.validationPollMs = 2000;
    this.world.resolve = async () => this.route53.answer(this.clock);
    this.world.aurora.lagPolls = sequence.lagPolls;
    this.route53 = new TimedRoute53({ intervalSeconds: config.healthCheckIntervalSeconds, failureThreshold: config.healthCheckFailureThreshold, since: START });
    this.prober = this.proberDependencies();
    const { storage, dynamodb, orderPath } = simulationFixture;
    simulationFixture.clock = () => this.clock;
    simulationFixture.dynamoDbReach = (region) => this.isolated.get(region as Region) ?? (this.world.down.has(region as Region) ? 'dark' : 'normal');
    this.world.databaseFor = (region) => storage.database(region);
    this.world.documentsFor = (region) => dynamodb.client(region);
    this.world.beforeReconcile = () => this.followAurora();
    const queue = (region: Region) => new OrderQueueModel(region, orderPath.visibilityTimeoutMs, orderPath.maxReceiveCount, orderPath.batchSize);
    this.queues = { [PRIMARY]: queue(PRIMARY), [SECONDARY]: queue(SECONDARY) };
    this.traffic = new OrderTraffic(
      {
        now: () => this.clock,
        answerAt: (at) => [...this.answers].reverse().find((answer) => answer.at <= at)?.target ?? TARGETS[PRIMARY],
        apiAnswers: (region) => !this.world.down.has(region) && !fixture.apis[region].failing,
        runs: (region) => this.functionsRun(region),
        documents: (region) => dynamodb.client(region),
        queues: this.queues,
        storage,
      },
      {
        ordersPerStep: 1,
        staleDnsMs: sequence.data.staleDnsMs,
        pendingShards: orderPath.pendingShards,
        maxBodyBytes: orderPath.maxBodyBytes,
        journalTable: () => fixture.journalTable,
        controlTable: fixture.deployment.controlTable,
      },
      seed,
    );
  }

  async run(): Promise<SequenceReport> {
    const { storage, dynamodb, orderPath } = this.simulationFixture;
    await storage.reset(PRIMARY, { lagMs: this.sequence.data.replicationLagMs, rpoSeconds: orderPath.rpoSeconds }, START);
    dynamodb.reset(this.sequence.data.indexLagMs);
    const events = [...this.sequence.events].sort((a, b) => a.at - b.at);
    const endMs = this.sequence.durationSeconds * 1000;
    let ticks = 0;
    for (let elapsed = 0; elapsed <= endMs; elapsed += TICK_MS) {
      ticks++;
      // Quiet (no fault, us-east-1 active and a healthy standby, nothing queued): nothing the
      // prober or the checkers see can change until the next event, so time jumps there.
      // (Not while a drill observes: it acts between events.)
      if (!this.observer && (await this.quiet())) {
        const nextEvent = events.length > 0 ? events[0].at * 1000 : endMs;
        elapsed = Math.max(elapsed, Math.floor((nextEvent - TICK_MS) / TICK_MS) * TICK_MS);
      }
      await this.advance(START + elapsed - this.clock);
      while (events.length > 0 && events[0].at * 1000 <= elapsed) await this.apply(events.shift()!);
      if (!this.world.down.has(SECONDARY)) await probeOnce(this.prober);
      await this.drainQueue();
      await this.traffic.send();
      await this.traffic.process();
      await this.reconcileOnSchedule();
      await this.checkBetweenRuns();
      if (this.clock - this.lastOrderCheck >= ORDER_CHECK_MS) await this.checkOrders();
      if (this.observer) for (const event of await this.observer(await this.view())) await this.apply(event);
    }
    await this.checkConverged();
    await this.checkOrders();
    return {
      sequence: this.sequence.name,
      seed: this.seed,
      ticks,
      simulatedSeconds: (this.clock - START) / 1000,
      runs: this.runs,
      violations: this.violations,
      notChecked: [],
      orders: {
        acknowledged: this.traffic.acknowledged.size,
        inWriter: (await storage.orders()).length,
        lostInFailovers: storage.lostInFailovers,
        discardedAtRejoin: storage.discardedAtRejoin,
        deadLettered: REGIONS.reduce((sum, region) => sum + this.queues[region].deadLetters.length, 0),
        blockedInvocations: this.traffic.blockedInvocations,
        lostWriteAnswers: dynamodb.lostAnswers.length,
      },
    };
  }

  private async view(): Promise<SimulationView> {
    const answer = this.route53.answer(this.clock);
    const control = await readControlState(documents, this.fixture.deployment.controlTable, PRIMARY);
    return {
      clock: this.clock,
      dnsRegion: REGIONS.find((region) => TARGETS[region] === answer) ?? PRIMARY,
      activeRegion: control.activeRegion,
      runs: this.finishedRuns,
    };
  }

  /**
   * The schedule's reconciliation (lib/order-path/continuous-reconciliation.ts) in each region whose functions
   * run (a standby's run does nothing). A run that could not happen (its region down) or failed is
   * retried at the next step, as EventBridge retries a failed invocation.
   */
  private async reconcileOnSchedule(): Promise<void> {
    const intervalMs = this.fixture.deployment.config.reconcileIntervalMinutes * 60_000;
    await this.followAurora();
    for (const region of REGIONS) {
      if (this.clock - this.lastReconcile[region] < intervalMs || !this.functionsRun(region)) continue;
      try {
        const result = await this.world.reconcile(region, 'schedule');
        if (result.complete) this.lastReconcile[region] = this.clock;
      } catch {
        // Its region's writer unreachable, a lost answer: the next step tries again.
      }
    }
  }

  /**
   * Whether a region's order path runs: not while it is dark; while it is only cut off from the
   * outside, its EventBridge schedule and its queue's event source mapping are inside it and go on.
   * (Its prober and state machines are left out: they are treated as down.)
   */
  private functionsRun(region: Region): boolean {
    return !this.world.down.has(region) || this.isolated.has(region);
  }

  /** The data side follows what Aurora's control plane did: promotions, and old primaries rejoining. */
  private async followAurora(): Promise<void> {
    const { storage } = this.simulationFixture;
    for (const change of this.world.aurora.changes.splice(0)) {
      if (change.kind === 'rejoin') {
        await storage.rejoined(change.region);
      } else {
        if (change.kind === 'switchover') await storage.switchedOver(change.target);
        else await storage.failedOver(change.target);
        this.promotedAt = this.clock;
      }
    }
  }

  /**
   * The order invariants, against the writer's database: every order acknowledged more than the
   * bound ago (and promoted more than the bound ago) is there once, with its own orderId; every
   * order there was committed by the region active under its epoch, while that epoch lasted.
   */
  private async checkOrders(): Promise<void> {
    this.lastOrderCheck = this.clock;
    const { storage } = this.simulationFixture;
    if (this.world.down.has(storage.writer as Region)) return;
    const rows = await storage.orders();
    const byKey = new Map(rows.map((row) => [orderKeyOf({ accountId: row.account_id, clientOrderId: row.client_order_id }), row]));
    if (this.clock - this.promotedAt >= ORDER_BOUND_MS) {
      for (const order of this.traffic.acknowledged.values()) {
        if (this.clock - order.acknowledgedAt < ORDER_BOUND_MS || this.reportedOrders.has(order.orderKey)) continue;
        const row = byKey.get(order.orderKey);
        if (row?.order_id === order.orderId) continue;
        this.reportedOrders.add(order.orderKey);
        this.violation(
          'orders-applied',
          row
            ? `${order.orderKey} (acknowledged by ${order.region} at ${(order.acknowledgedAt - START) / 1000} s) is in the writer as order ${row.order_id}, not ${order.orderId}`
            : `${order.orderKey} (acknowledged by ${order.region} at ${(order.acknowledgedAt - START) / 1000} s) is not in the writer (${storage.writer}) ${(this.clock - order.acknowledgedAt) / 1000} s later`,
        );
      }
    }
    const surviving = new Set(rows.map((row) => row.order_id));
    for (const commit of await storage.commits()) {
      if (!surviving.has(commit.order_id) || this.reportedOrders.has(`commit:${commit.order_id}`)) continue;
      const epoch = this.epochs.get(commit.epoch);
      const stale = epoch === undefined || epoch.region !== commit.region || (epoch.endedAt !== undefined && commit.at.getTime() > epoch.endedAt);
      if (!stale) continue;
      this.reportedOrders.add(`commit:${commit.order_id}`);
      this.violation(
        'one-committer',
        `order ${commit.order_id} committed by ${commit.region} under epoch ${commit.epoch} (${epoch ? `${epoch.region}'s${epoch.endedAt !== undefined ? ', ended before the commit' : ''}` : 'unknown'}) survives in the writer`,
      );
    }
  }

  /** No fault in force, us-east-1 active with nothing drained, both records healthy, no run waiting. */
  private async quiet(): Promise<boolean> {
    if (
      this.world.down.size > 0 ||
      REGIONS.some((region) => this.fixture.apis[region].failing) ||
      this.proberPathBroken ||
      this.queue.length > 0 ||
      this.faults.length > 0
    )
      return false;
    if (REGIONS.some((region) => this.queues[region].messages.length > 0) || this.traffic.outstandingCount > 0) return false;
    // An acknowledged order not yet in the writer waits for the next scheduled reconciliation: no skipping past it.
    if ((await this.simulationFixture.storage.orders()).length < this.traffic.acknowledged.size) return false;
    if (!REGIONS.every((region) => this.fixture.apis[region].databaseOk && this.route53.recordHealthy(region, this.clock))) return false;
    const control = await readControlState(documents, this.fixture.deployment.controlTable, PRIMARY);
    return control.activeRegion === PRIMARY && control.drainedRegions.length === 0 && this.world.aurora.regionOf(this.world.aurora.writer) === PRIMARY;
  }

  /** Moves the virtual clock: Route 53's checkers and the switch keepers act on the way. */
  private async advance(ms: number): Promise<void> {
    const target = this.clock + Math.max(0, ms);
    while (this.clock < target) {
      const next = Math.min(target, this.clock + TICK_MS);
      this.clock = next;
      this.world.aurora.elapse();
      await this.followAurora();
      await this.simulationFixture.storage.elapse(this.clock);
      this.answers.push({ at: this.clock, target: this.route53.answer(this.clock) });
      await this.keepSwitches();
      await this.route53.check(this.clock, async (region) => !this.world.down.has(region) && (await this.fixture.apis[region].health()).status === 200);
    }
  }

  /**
   * Each region's switch keeper republishes the switch it hosts (lib/routing/switch-keeper.ts), while that
   * region is up. Route 53 reads the stream per one-minute period, so one datapoint a minute (at
   * the minute's first tick) stands for the keeper's three.
   */
  private async keepSwitches(): Promise<void> {
    if (this.clock % 60_000 >= TICK_MS) return;
    for (const evacuated of REGIONS) {
      const host = peerOf(evacuated);
      if (this.world.down.has(host)) continue;
      const position = parsePosition(await this.fixture.switchPosition(evacuated));
      this.route53.publishSwitch(evacuated, switchValue(position), this.clock);
    }
  }

  private async apply(event: Event): Promise<void> {
    switch (event.kind) {
      case 'region-down':
        this.world.setDown(event.region, true);
        this.simulationFixture.storage.setRegionDown(event.region, true);
        break;
      case 'region-up':
        this.world.setDown(event.region, false);
        this.simulationFixture.storage.setRegionDown(event.region, false);
        await this.followAurora();
        break;
      // From outside, an isolated region is down (its API, health, RDS control plane and replication
      // do not answer); inside, its order path goes on.
      case 'region-isolated':
        this.isolated.set(event.region, event.journal);
        this.world.setDown(event.region, true);
        this.simulationFixture.storage.setRegionDown(event.region, true);
        break;
      case 'region-isolation-end':
        this.isolated.delete(event.region);
        this.world.setDown(event.region, false);
        this.simulationFixture.storage.setRegionDown(event.region, false);
        await this.followAurora();
        break;
      case 'processing-paused':
      case 'processing-resumed':
        if (event.kind === 'processing-paused') this.traffic.paused.add(event.region);
        else this.traffic.paused.delete(event.region);
        break;
      case 'queue-errors':
      case 'queue-errors-end':
        this.queues[event.region].failing = event.kind === 'queue-errors';
        break;
      case 'lose-write-answers':
        this.simulationFixture.dynamodb.loseAnswers += event.count;
        break;
      case 'region-errors':
        this.world.setFailing(event.region, true);
        break;
      case 'region-errors-end':
        this.world.setFailing(event.region, false);
        break;
      case 'api-errors':
      case 'api-errors-end':
        this.fixture.apis[event.region].failing = event.kind === 'api-errors';
        break;
      case 'database-down':
        this.fixture.apis[event.region].databaseOk = false;
        break;
      case 'database-up':
        this.fixture.apis[event.region].databaseOk = true;
        break;
      case 'prober-path-down':
        this.proberPathBroken = true;
        break;
      case 'prober-path-up':
        this.proberPathBroken = false;
        break;
      case 'pause':
        await documents.send(
          new PutCommand({
            TableName: this.fixture.deployment.controlTable,
            Item: { [ControlTableSchema.pk]: ControlTableSchema.automationPauseItem, reason: 'simulation' },
          }),
        );
        break;
      case 'resume':
        await documents.send(
          new DeleteCommand({ TableName: this.fixture.deployment.controlTable, Key: { [ControlTableSchema.pk]: ControlTableSchema.automationPauseItem } }),
        );
        break;
      case 'operator-run':
        this.queue.push({ region: event.region, input: { mode: event.mode, reason: 'operator' }, by: 'operator' });
        break;
      case 'run-fault':
        this.faults.push(event.fault);
        break;
    }
  }

  /** Step Functions as the prober calls it: the execution is queued; a reused name is refused. */
  private stepFunctions(region: Region): SFNClient {
    return {
      send: async (command: StartExecutionCommand) => {
        if (this.world.down.has(region)) throw Object.assign(new Error(`StartExecution in ${region}: no answer`), { name: 'TimeoutError' });
        const name = command.input.name!;
        const usedAt = this.names.get(name);
        if (usedAt !== undefined && this.clock - usedAt < NAME_REUSE_MS) {
          throw new ExecutionAlreadyExists({ $metadata: {}, message: `Execution Already Exists: '${name}'` });
        }
        this.names.set(name, this.clock);
        if (region === SECONDARY && this.route53.endpointHealthy(PRIMARY)) {
          this.violation('no-needless-failover', `the prober started ${name} while Route 53's checkers saw us-east-1 healthy`);
        }
        this.queue.push({ region, input: JSON.parse(command.input.input!) as Record<string, unknown>, by: 'prober' });
        return {};
      },
    } as unknown as SFNClient;
  }

  private proberDependencies(): ProberDependencies {
    const { deployment } = this.fixture;
    const { config } = deployment;
    const { fixture, world } = this;
    const sns = { send: async (command: PublishCommand) => command } as unknown as SNSClient;
    const primaryUp = { ssm: fixture.ssm[PRIMARY], cloudwatch: fixture.cloudwatch[PRIMARY] };
    return {
      region: SECONDARY,
      peerRegion: PRIMARY,
      primaryRegion: PRIMARY,
      controlTable: deployment.controlTable,
      ownStateMachineArn: `arn:aws:states:${SECONDARY}:111111111111:stateMachine:${deployment.namings[SECONDARY].name('stateMachine', 'failover')}`,
      peerStateMachineArn: `arn:aws:states:${PRIMARY}:111111111111:stateMachine:${deployment.namings[PRIMARY].name('stateMachine', 'failover')}`,
      failureThreshold: config.probeFailureThreshold,
      minimumOutageMs: config.probeMinimumOutageSeconds * 1000,
      restartAfterMs: config.probeRestartAfterSeconds * 1000,
      autoFailback: config.autoFailback,
      failbackAfterHealthyMs: config.failbackAfterHealthySeconds * 1000,
      alertTopicArn: `arn:aws:sns:${SECONDARY}:111111111111:alerts`,
      httpTimeoutMs: 1000,
      apiHostName: 'api.trading.example.com',
      ownApiTarget: TARGETS[SECONDARY],
      switchParameterName: deployment.switchParameter,
      metricNamespace: deployment.namings[PRIMARY].metricNamespace(),
      switchMetricName: 'EvacuateRegion',
      documents,
      sfn: this.stepFunctions(SECONDARY),
      peerSfn: this.stepFunctions(PRIMARY),
      sns,
      localSwitch: { ssm: fixture.ssm[SECONDARY], cloudwatch: fixture.cloudwatch[SECONDARY] },
      // A region that is down answers nothing (its SSM and CloudWatch included).
      get peerSwitch() {
        return world.down.has(PRIMARY) ? fixture.deadRegion : primaryUp;
      },
      peerApiUrl: async () => (world.down.has(PRIMARY) || this.proberPathBroken ? 'http://127.0.0.1:9/v1/' : fixture.apis[PRIMARY].url),
      get: fetchGet,
      resolveCname: async () => [this.route53.answer(this.clock)],
      logger: silentLogger,
      now: () => this.clock,
    };
  }

  /** Runs what was started, one at a time (the lock serializes them in AWS too), each with the faults queued for it. */
  private async drainQueue(): Promise<void> {
    while (this.queue.length > 0) {
      const next = this.queue.shift()!;
      if (this.world.down.has(next.region)) continue;
      const fault = this.faults.shift();
      const sound = fault === undefined && REGIONS.every((region) => !this.world.down.has(region) && this.fixture.apis[region].databaseOk);
      const options = this.faultOptions(fault);
      // Alerts from before this run are not this run's.
      await this.fixture.drainAlerts();
      this.running = true;
      const startedAt = Date.now();
      const virtualStart = this.clock;
      let result: ExecutionResult;
      try {
        result = await this.world.run(next.region, next.input, options.run);
      } finally {
        this.running = false;
        options.after();
      }
      await this.followAurora();
      await this.recordEpoch(startedAt);
      this.runs.push({ region: next.region, mode: String(next.input.mode), status: result.status, error: result.error?.name });
      const output = (result.output ?? {}) as { preflight?: { promotion?: { kind?: string } }; validation?: unknown };
      this.finishedRuns.push({
        executionArn: `${next.region}:${this.finishedRuns.length + 1}`,
        region: next.region,
        mode: String(next.input.mode),
        status: result.status,
        startedAt: virtualStart,
        stoppedAt: this.clock,
        promotion: output.preflight?.promotion?.kind,
        canaryAcceptedAt: output.validation ? this.clock : undefined,
        ...(result.error === undefined ? {} : { error: `${result.error.name}: ${result.error.cause}`.slice(0, 300) }),
      });
      if (next.input.mode === 'planned' && sound && result.status !== 'SUCCEEDED') {
        this.violation(
          'planned-succeeds',
          `a planned run to ${next.region} with both regions sound ended ${result.status} ${result.error?.name ?? ''}: ${result.error?.cause?.slice(0, 200) ?? ''}`,
        );
      }
      await this.checkAfterRun(next, result);
    }
  }

  /** After a run: a new epoch's region, and the end of the one before (at the run's start: nothing else commits during a run). */
  private async recordEpoch(runStartedAt: number): Promise<void> {
    const control = await readControlState(documents, this.fixture.deployment.controlTable, PRIMARY);
    if (this.epochs.has(control.fencingEpoch)) return;
    for (const [epoch, entry] of this.epochs) if (epoch < control.fencingEpoch && entry.endedAt === undefined) entry.endedAt = runStartedAt;
    this.epochs.set(control.fencingEpoch, { region: control.activeRegion });
  }

  private faultOptions(fault: RunFault | undefined): { run: RunOptions; after: () => void } {
    const { aurora } = this.world;
    switch (fault) {
      case 'lose-lock-answer':
        return { run: { wrappers: { 'Preflight: acquire lock': loseFirstAnswer() } }, after: () => undefined };
      case 'lose-fence-answer':
        return { run: { wrappers: { 'Fence: set active region': loseFirstAnswer() } }, after: () => undefined };
      case 'busy-cluster':
        aurora.busyRefusals = 2;
        return { run: {}, after: () => undefined };
      case 'late-switchover':
        // The switchover finishes only after the run has given up waiting (at its rollback's re-read).
        aurora.neverCompletes = true;
        this.world.beforeRollbackRead = () => aurora.completePromotion();
        return {
          run: {},
          after: () => {
            this.world.beforeRollbackRead = undefined;
            aurora.completePromotion();
          },
        };
      case undefined:
        return { run: {}, after: () => undefined };
    }
  }

  private violation(invariant: InvariantName, detail: string): void {
    this.violations.push({ invariant, at: (this.clock - START) / 1000, detail });
  }

  private async checkAfterRun(run: QueuedRun, result: ExecutionResult): Promise<void> {
    const alerts = await this.fixture.drainAlerts();
    if (result.status !== 'SUCCEEDED' && result.status !== 'FAILED') this.violation('run-ends', `${run.region} run ${result.status}`);
    if (result.status === 'FAILED' && !alerts.some((subject) => /FAILED|not started/.test(subject))) {
      this.violation('run-ends', `${run.region} run failed (${result.error?.name}) without an alert; alerts: ${alerts.join(', ') || 'none'}`);
    }
    // Runs here are one at a time: whatever lock is left after one has no run behind it.
    if ((await this.fixture.controlItem(ControlTableSchema.failoverLockItem)) !== undefined) {
      this.violation('lock-released', `the lock outlived a ${run.region} run (${result.status})`);
    }
    await this.checkRoles(`after a ${run.region} run (${result.status}${result.error ? ` ${result.error.name}` : ''})`);
    for (const failover of this.world.aurora.dataLosingFailovers.splice(0)) {
      if (failover.writerRegionUp)
        this.violation('no-needless-data-loss', `a ${run.region} run's failover allowing data loss was accepted while the writer's region answered`);
    }
  }

  /** The drained list, and each switch whose host region answers, where the roles of the active region want them. */
  private async checkRoles(when: string): Promise<void> {
    const control = await readControlState(documents, this.fixture.deployment.controlTable, PRIMARY);
    const plan = rolesFor(control.activeRegion, PRIMARY, SECONDARY);
    const switches: Record<string, 'thrown' | 'released' | 'unknown'> = {};
    for (const region of REGIONS) switches[region] = this.world.down.has(peerOf(region)) ? 'unknown' : parsePosition(await this.fixture.switchPosition(region));
    const gaps = roleGaps(plan, control.drainedRegions, switches);
    if (gaps.length > 0) this.violation('roles', `${when}: ${gaps.join('; ')}`);
  }

  /** Between runs: roles (unless paused: operators may hold a switch), and a standby ready for the next outage. */
  private async checkBetweenRuns(): Promise<void> {
    if (this.running) return;
    const paused = (await this.fixture.controlItem(ControlTableSchema.automationPauseItem)) !== undefined;
    const control = await readControlState(documents, this.fixture.deployment.controlTable, PRIMARY);
    // The prober corrects roles only while the region that hosts a switch answers.
    if (!paused && REGIONS.every((region) => !this.world.down.has(region))) await this.checkRoles('between runs');
    const standbyMatters = control.activeRegion === PRIMARY && !paused && !this.world.down.has(SECONDARY) && this.fixture.apis[SECONDARY].databaseOk;
    if (standbyMatters && !this.route53.recordHealthy(SECONDARY, this.clock)) {
      this.standbyUnhealthySince ??= this.clock;
      if (this.clock - this.standbyUnhealthySince >= STANDBY_GRACE_MS) {
        this.violation(
          'standby-ready',
          `us-east-1 is active but us-east-2's record has been unhealthy for ${(this.clock - this.standbyUnhealthySince) / 1000} s: the next outage would keep traffic on us-east-1`,
        );
        this.standbyUnhealthySince = this.clock;
      }
    } else {
      this.standbyUnhealthySince = undefined;
    }
  }

  /** At the end (every fault healed, time to settle given): writer, active region and DNS agree. */
  private async checkConverged(): Promise<void> {
    const control = await readControlState(documents, this.fixture.deployment.controlTable, PRIMARY);
    const writerRegion = this.world.aurora.regionOf(this.world.aurora.writer);
    const answer = this.route53.answer(this.clock);
    const expected = this.fixture.deployment.config.autoFailback ? PRIMARY : control.activeRegion;
    const problems = [
      ...(control.activeRegion !== writerRegion ? [`the table names ${control.activeRegion} active but the writer is in ${writerRegion}`] : []),
      ...(control.activeRegion !== expected ? [`${control.activeRegion} is active, not ${expected}`] : []),
      ...(answer !== TARGETS[control.activeRegion as Region] ? [`DNS answers ${answer}, not ${control.activeRegion}'s target`] : []),
      ...((await this.fixture.controlItem(ControlTableSchema.failoverLockItem)) !== undefined ? ['a failover lock is still held'] : []),
    ];
    if (problems.length > 0) this.violation('converges', problems.join('; '));
  }
}

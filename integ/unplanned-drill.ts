/**
 * The unplanned drill's logic, apart from AWS: a fault is injected into the primary (FIS Lambda
 * errors on its health and intake functions in the pipeline; the simulation's failing API in the
 * tests), and with no manual start the drill watches detection, the prober's unplanned run, DNS
 * moving and orders accepted in the secondary; then it stops the fault, waits for the automatic
 * failback and validates again. It measures each figure against its target.
 *
 * The drill is a monitor: each observation (what the driver read: DNS, the runs of both regions'
 * state machines, the control table) moves it on, and it answers with the actions to take (start
 * or stop the fault). The AWS driver (integ/unplanned-drill-run.ts) and the simulation's test
 * both feed it, so the logic the pipeline runs is the logic the tests check.
 */

import type { AppConfig } from '../lib/core/config';

/** A run of one region's failover state machine, as the driver read it. */
export interface ObservedRun {
  readonly region: string;
  readonly executionArn: string;
  /** `planned` or `unplanned`, from the execution's input. */
  readonly mode: string;
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | string;
  readonly startedAt: number;
  readonly stoppedAt?: number;
  /** The promotion the run chose (`switchover`, `failover`, `none`), from its output once it ended. */
  readonly promotion?: string;
  /** When its validation's canary order was accepted in its region (from its output). */
  readonly canaryAcceptedAt?: number;
  /** Why it did not succeed: the execution's error and cause, when it names them. */
  readonly error?: string;
}

/** ` (error: cause)` for a run that names why it ended, else nothing. */
function why(run: ObservedRun): string {
  return run.error === undefined ? '' : ` (${run.error})`;
}

export interface Observation {
  readonly at: number;
  /** The region `api.<domain>` resolves to now, if it resolves to either. */
  readonly dnsRegion?: string;
  /** The control table's active region. */
  readonly activeRegion?: string;
  /** Runs of both state machines started since the drill began. */
  readonly runs: readonly ObservedRun[];
}

export type PromotionKind = 'switchover' | 'failover';

export interface UnplannedDrillSettings {
  readonly primaryRegion: string;
  readonly secondaryRegion: string;
  /** What the unplanned run must promote with: `failover` when the drill forced it, else `switchover`. */
  readonly expectedPromotion: PromotionKind;
  readonly targets: UnplannedTargets;
}

/** Every limit the drill holds a figure to, in seconds (from config: README, "Unplanned drill"). */
export interface UnplannedTargets {
  /** Fault to DNS answering the secondary (`failoverTargetSeconds`). */
  readonly trafficSeconds: number;
  /** Fault to the prober starting the unplanned run. */
  readonly detectionSeconds: number;
  /** Fault to the unplanned run's canary accepted in the secondary. */
  readonly ordersAcceptedSeconds: number;
  /** The unplanned run's own duration (`maxFailoverDurationSeconds`). */
  readonly failoverRunSeconds: number;
  /** Fault stopped to DNS answering the primary again after the automatic failback. */
  readonly failbackSeconds: number;
  /** Give up waiting for the next phase after this long (the drill fails). */
  readonly phaseTimeoutSeconds: number;
}

/** The targets from a deployment's config: what the README promises for an unplanned failover. */
export function unplannedTargets(
  config: Pick<AppConfig, 'failoverTargetSeconds' | 'probeMinimumOutageSeconds' | 'maxFailoverDurationSeconds' | 'failbackAfterHealthySeconds'>,
): UnplannedTargets {
  return {
    trafficSeconds: config.failoverTargetSeconds,
    // The prober waits for its own minimum outage on top of what Route 53 needs.
    detectionSeconds: config.failoverTargetSeconds + config.probeMinimumOutageSeconds,
    ordersAcceptedSeconds: config.maxFailoverDurationSeconds,
    failoverRunSeconds: config.maxFailoverDurationSeconds,
    failbackSeconds: config.failbackAfterHealthySeconds + config.maxFailoverDurationSeconds,
    phaseTimeoutSeconds: 2 * (config.failbackAfterHealthySeconds + config.maxFailoverDurationSeconds),
  };
}

export type Phase = 'inject' | 'detect' | 'failover' | 'stop-fault' | 'failback' | 'done';

export type DrillAction = { readonly kind: 'start-fault' } | { readonly kind: 'stop-fault' };

export interface UnplannedFigures {
  readonly detectionSeconds: number | null;
  readonly trafficSeconds: number | null;
  readonly ordersAcceptedSeconds: number | null;
  readonly failoverRunSeconds: number | null;
  readonly promotion: string | null;
  readonly failbackSeconds: number | null;
  readonly failbackRunSeconds: number | null;
}

export interface UnplannedResult {
  readonly ok: boolean;
  readonly figures: UnplannedFigures;
  readonly problems: string[];
  readonly failoverExecutionArn: string | null;
  readonly failbackExecutionArn: string | null;
}

const seconds = (ms: number): number => Math.round(ms) / 1000;

export class UnplannedDrill {
  private phase: Phase = 'inject';
  private phaseStartedAt?: number;
  private faultAt?: number;
  private faultStoppedAt?: number;
  private failoverRun?: ObservedRun;
  private failbackRun?: ObservedRun;
  private dnsMovedAt?: number;
  private dnsBackAt?: number;
  private readonly problems: string[] = [];

  constructor(
    private readonly settings: UnplannedDrillSettings,
    private readonly print: (line: string) => void = () => undefined,
  ) {}

  get current(): Phase {
    return this.phase;
  }

  get done(): boolean {
    return this.phase === 'done';
  }

  /** Moves the drill on from what was observed; returns what the driver must do now. */
  observe(observation: Observation): DrillAction[] {
    const actions: DrillAction[] = [];
    const { primaryRegion, secondaryRegion } = this.settings;
    if (this.phase === 'inject') {
      this.faultAt = observation.at;
      this.enter('detect', observation.at, `fault injected into ${primaryRegion}'s health and intake functions`);
      return [{ kind: 'start-fault' }];
    }
    if (this.phase !== 'done' && this.timedOut(observation.at)) {
      this.problems.push(`${this.phase}: nothing moved on within ${this.settings.targets.phaseTimeoutSeconds} s`);
      if (this.faultStoppedAt === undefined) actions.push({ kind: 'stop-fault' });
      this.enter('done', observation.at, 'drill stopped: a phase timed out');
      return actions;
    }
    if (this.dnsMovedAt === undefined && this.faultAt !== undefined && observation.dnsRegion === secondaryRegion) {
      this.dnsMovedAt = observation.at;
      this.print(`DNS answers ${secondaryRegion} (${seconds(observation.at - this.faultAt)} s after the fault)`);
    }
    const after = (region: string, since: number) =>
      observation.runs.filter((run) => run.region === region && run.startedAt >= since).sort((a, b) => a.startedAt - b.startedAt);

    if (this.phase === 'detect') {
      const run = after(secondaryRegion, this.faultAt!).find((each) => each.mode === 'unplanned');
      if (run) {
        this.failoverRun = run;
        this.enter('failover', observation.at, `the prober started ${run.executionArn}`);
      }
    }
    if (this.phase === 'failover') {
      const run = observation.runs.find((each) => each.executionArn === this.failoverRun!.executionArn) ?? this.failoverRun!;
      this.failoverRun = run;
      if (run.status !== 'RUNNING') {
        if (run.status !== 'SUCCEEDED') this.problems.push(`the unplanned run ${run.executionArn} ended ${run.status}${why(run)}`);
        else if (run.promotion !== this.settings.expectedPromotion) {
          this.problems.push(`the unplanned run promoted with ${run.promotion ?? 'nothing'}, not the ${this.settings.expectedPromotion} this drill expected`);
        }
        if (this.dnsMovedAt !== undefined || run.status !== 'SUCCEEDED') {
          this.faultStoppedAt = observation.at;
          actions.push({ kind: 'stop-fault' });
          this.enter(run.status === 'SUCCEEDED' ? 'failback' : 'done', observation.at, `unplanned run ${run.status}; fault stopped`);
        }
      }
    }
    if (this.phase === 'failback') this.watchFailback(observation, after(primaryRegion, this.faultStoppedAt!));
    return actions;
  }

  private watchFailback(observation: Observation, runs: ObservedRun[]): void {
    const { primaryRegion } = this.settings;
    this.failbackRun = runs.find((run) => run.executionArn === this.failbackRun?.executionArn) ?? runs[0];
    if (this.dnsBackAt === undefined && observation.dnsRegion === primaryRegion && this.failbackRun) this.dnsBackAt = observation.at;
    const run = this.failbackRun;
    if (!run || run.status === 'RUNNING' || this.dnsBackAt === undefined) return;
    if (run.status !== 'SUCCEEDED') this.problems.push(`the failback run ${run.executionArn} ended ${run.status}${why(run)}`);
    if (observation.activeRegion !== primaryRegion)
      this.problems.push(`after failback the control table names ${observation.activeRegion ?? 'no region'} active, not ${primaryRegion}`);
    this.enter('done', observation.at, `failback ${run.status}; DNS answers ${primaryRegion}`);
  }

  private enter(phase: Phase, at: number, what: string): void {
    this.phase = phase;
    this.phaseStartedAt = at;
    const since = this.faultAt === undefined ? 0 : at - this.faultAt;
    this.print(`[${seconds(since).toFixed(1).padStart(7)} s] ${what}`);
  }

  private timedOut(at: number): boolean {
    return this.phaseStartedAt !== undefined && at - this.phaseStartedAt > this.settings.targets.phaseTimeoutSeconds * 1000;
  }

  /** The figures and the verdict, once done (or whenever the driver gives up). */
  result(): UnplannedResult {
    const { targets, secondaryRegion } = this.settings;
    const fault = this.faultAt;
    const since = (at: number | undefined) => (fault === undefined || at === undefined ? null : seconds(at - fault));
    const run = this.failoverRun;
    const back = this.failbackRun;
    const figures: UnplannedFigures = {
      detectionSeconds: since(run?.startedAt),
      trafficSeconds: since(this.dnsMovedAt),
      ordersAcceptedSeconds: since(run?.canaryAcceptedAt),
      failoverRunSeconds: run?.stoppedAt === undefined ? null : seconds(run.stoppedAt - run.startedAt),
      promotion: run?.promotion ?? null,
      failbackSeconds: this.faultStoppedAt === undefined || this.dnsBackAt === undefined ? null : seconds(this.dnsBackAt - this.faultStoppedAt),
      failbackRunSeconds: back?.stoppedAt === undefined ? null : seconds(back.stoppedAt - back.startedAt),
    };
    const problems = [...this.problems];
    const limit = (name: string, value: number | null, target: number, what: string) => {
      if (value === null) problems.push(`${name} unknown: ${what} was never seen`);
      else if (value > target) problems.push(`${name} ${value} s exceeds its target ${target} s (${what})`);
    };
    limit('detection', figures.detectionSeconds, targets.detectionSeconds, "fault -> the prober's unplanned run");
    limit('traffic', figures.trafficSeconds, targets.trafficSeconds, `fault -> DNS answers ${secondaryRegion}`);
    limit('orders accepted', figures.ordersAcceptedSeconds, targets.ordersAcceptedSeconds, `fault -> the run's canary accepted in ${secondaryRegion}`);
    limit('failover run', figures.failoverRunSeconds, targets.failoverRunSeconds, 'the unplanned run, start -> stop');
    limit('failback', figures.failbackSeconds, targets.failbackSeconds, 'fault stopped -> DNS answers the primary');
    return {
      ok: problems.length === 0,
      figures,
      problems: [...new Set(problems)],
      failoverExecutionArn: run?.executionArn ?? null,
      failbackExecutionArn: back?.executionArn ?? null,
    };
  }
}

/** The promotion this run of the drill forces: the two kinds alternate by the pipeline's build number, so both are drilled. */
export function promotionForRun(buildNumber: number): PromotionKind {
  return buildNumber % 2 === 0 ? 'switchover' : 'failover';
}

/** The figures as a table against their targets, one line each. */
export function unplannedFigureTable(figures: UnplannedFigures, targets: UnplannedTargets): string[] {
  const rows: [string, number | null, number | undefined][] = [
    ["detection (fault -> prober's run)", figures.detectionSeconds, targets.detectionSeconds],
    ['traffic (fault -> DNS answers the secondary)', figures.trafficSeconds, targets.trafficSeconds],
    ["orders accepted (fault -> run's canary)", figures.ordersAcceptedSeconds, targets.ordersAcceptedSeconds],
    ['unplanned run', figures.failoverRunSeconds, targets.failoverRunSeconds],
    ['failback (fault stopped -> DNS answers the primary)', figures.failbackSeconds, targets.failbackSeconds],
    ['failback run', figures.failbackRunSeconds, undefined],
  ];
  const width = Math.max(...rows.map((row) => row[0].length));
  return [
    `promotion: ${figures.promotion ?? 'unknown'}`,
    ...rows.map(([name, value, target]) => {
      const shown = value === null ? 'unknown' : `${value} s`;
      const verdict = target === undefined ? '' : value === null ? `  target ${target} s  UNKNOWN` : `  target ${target} s  ${value <= target ? 'ok' : 'OVER'}`;
      return `${name.padEnd(width)}  ${shown.padStart(10)}${verdict}`;
    }),
  ];
}

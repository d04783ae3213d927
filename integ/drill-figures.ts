import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { FAILOVER_STATES } from '../lambda/contracts/failover-states';

/**
 * A drill's figures: what it measures, read from the execution's output and history, and the
 * table it prints against its targets.
 */

export interface DrillTargets {
  /** The traffic figure's limit (config `failoverTargetSeconds`). */
  readonly trafficSeconds: number;
  /** The whole execution's limit. */
  readonly totalSeconds: number;
}

export interface DrillFigures {
  readonly trafficSeconds: number | null;
  readonly canaryAcceptedSeconds: number | null;
  readonly canaryProcessedSeconds: number | null;
  readonly replicationLagMs: number | null;
  readonly ordersReconciled: number | null;
  readonly totalSeconds: number | null;
  readonly recordedFailoverSeconds: number | null;
}

export interface DrillReport {
  readonly ok: boolean;
  /** Empty when the execution could not be started. */
  readonly executionArn: string;
  readonly figures: DrillFigures;
  readonly problems: string[];
}

export const EMPTY_FIGURES: DrillFigures = {
  trafficSeconds: null,
  canaryAcceptedSeconds: null,
  canaryProcessedSeconds: null,
  replicationLagMs: null,
  ordersReconciled: null,
  totalSeconds: null,
  recordedFailoverSeconds: null,
};

export const VALIDATE_STATE = FAILOVER_STATES.validate;
export const RECONCILE_STATE = FAILOVER_STATES.replayJournal;

export interface ValidationOutput {
  readonly healthMs: number;
  readonly dnsMs: number;
  readonly canaryAcceptedMs: number;
  readonly canaryProcessedMs: number;
  readonly canaryOrderId: string;
}

export function validationOf(output: Record<string, unknown>): ValidationOutput | string {
  const validation = output.validation as Record<string, unknown> | undefined;
  if (!validation || typeof validation !== 'object') return 'the execution output has no validation result';
  const missing = ['healthMs', 'dnsMs', 'canaryAcceptedMs', 'canaryProcessedMs'].filter((key) => typeof validation[key] !== 'number');
  if (missing.length > 0 || typeof validation.canaryOrderId !== 'string') {
    return `the execution output's validation is incomplete (missing ${[...missing, ...(typeof validation.canaryOrderId === 'string' ? [] : ['canaryOrderId'])].join(', ')})`;
  }
  return validation as unknown as ValidationOutput;
}

/** When the successful validate task ended: its TaskSucceeded event, else the state's exit. */
export function validationEnd(events: readonly HistoryEvent[]): number | undefined {
  let end: number | undefined;
  let inside = false;
  for (const event of events) {
    if (event.stateEnteredEventDetails?.name === VALIDATE_STATE) {
      inside = true;
      end = undefined;
    } else if (inside && (event.type === 'TaskSucceeded' || event.type === 'LambdaFunctionSucceeded') && event.timestamp) {
      end = event.timestamp.getTime();
    } else if (event.stateExitedEventDetails?.name === VALIDATE_STATE) {
      inside = false;
      end ??= event.timestamp?.getTime();
    }
  }
  return end;
}

export function reconciledFromHistory(events: readonly HistoryEvent[]): number | undefined {
  let total: number | undefined;
  for (const event of events) {
    if (event.stateExitedEventDetails?.name !== RECONCILE_STATE || !event.stateExitedEventDetails.output) continue;
    try {
      const applied = (JSON.parse(event.stateExitedEventDetails.output) as { reconcile?: { applied?: unknown } }).reconcile?.applied;
      if (typeof applied === 'number') total = (total ?? 0) + applied;
    } catch {
      // A truncated or unparsable output: fall back to the final output's count.
    }
  }
  return total;
}

export function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}

/** The figures as a fixed-width table, one line each. */
export function figureTable(figures: DrillFigures, targets: DrillTargets): string[] {
  const show = (value: number | null, unit: string): string => (value === null ? 'unknown' : `${value} ${unit}`);
  const verdict = (value: number | null, target: number): string => (value === null ? 'UNKNOWN' : value <= target ? 'ok' : 'OVER');
  const rows: [string, string, string, string][] = [
    ['figure', 'value', 'target', ''],
    [
      'traffic (start -> DNS answers target)',
      show(figures.trafficSeconds, 's'),
      `${targets.trafficSeconds} s`,
      verdict(figures.trafficSeconds, targets.trafficSeconds),
    ],
    ['first order accepted in target', show(figures.canaryAcceptedSeconds, 's'), '', ''],
    ['first order processed in target', show(figures.canaryProcessedSeconds, 's'), '', ''],
    ['Aurora replication lag at cutover', show(figures.replicationLagMs, 'ms'), '', ''],
    ['orders reconciled', figures.ordersReconciled === null ? 'unknown' : String(figures.ordersReconciled), '', ''],
    ['total (execution start -> stop)', show(figures.totalSeconds, 's'), `${targets.totalSeconds} s`, verdict(figures.totalSeconds, targets.totalSeconds)],
    ['FailoverDuration metric', show(figures.recordedFailoverSeconds, 's'), '', ''],
  ];
  return fixedWidthTable(rows);
}

/** Rows of four cells (figure, value, target, verdict) as lines, the first three columns padded to their widest cell. */
export function fixedWidthTable(rows: readonly (readonly [string, string, string, string])[]): string[] {
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) =>
    row
      .map((cell, column) => (column < 3 ? cell.padEnd(widths[column]) : cell))
      .join('  ')
      .trimEnd(),
  );
}

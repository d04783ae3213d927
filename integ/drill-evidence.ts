import type { DrillOptions } from './drill';
import type { DrillReport } from './drill-figures';
import { evidenceSummary, REPORT_SCHEMA_VERSION, writeDrillReport, type DrillReportDependencies, type DrillReportDocument } from './drill-report';
import type { RestoreDrillResult } from './restore-drill';
import type { RestoreOptions } from './restore-options';
import type { UnplannedOptions, UnplannedRun } from './unplanned-drill-run';

/**
 * A drill's result as its evidence document (drill-report.ts defines the shape), and the CLI's
 * step that writes it and says where it went.
 */

/** What every report records about the run besides the drill's own result. */
export interface RunRecord {
  readonly account: string;
  readonly commit: string;
  readonly startedBy: string;
  readonly startedAt: Date;
  readonly endedAt: Date;
}

/** The planned drill's report. */
export function plannedReportDocument(options: DrillOptions, result: DrillReport, run: RunRecord): DrillReportDocument {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    kind: 'planned',
    appName: options.appName,
    environment: options.environmentSuffix,
    account: run.account,
    regions: { target: options.targetRegion, other: options.otherRegion },
    targets: { trafficSeconds: options.targets.trafficSeconds, totalSeconds: options.targets.totalSeconds },
    figures: { ...result.figures },
    result: { passed: result.ok, problems: [...result.problems], evidenceProblems: [] },
    executionArn: result.executionArn || null,
    experimentId: null,
    commit: run.commit,
    startedBy: run.startedBy,
    startedAt: run.startedAt.toISOString(),
    endedAt: run.endedAt.toISOString(),
    details: { mode: options.mode, reason: options.reason },
  };
}

/** The unplanned drill's report: the failover run as its execution, the FIS experiment, the failback run in the details. */
export function unplannedReportDocument(options: UnplannedOptions, result: UnplannedRun, run: RunRecord): DrillReportDocument {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    kind: 'unplanned',
    appName: options.appName,
    environment: options.environmentSuffix,
    account: run.account,
    regions: { target: options.secondaryRegion, other: options.primaryRegion },
    targets: { ...options.targets },
    figures: {
      detectionSeconds: result.figures.detectionSeconds,
      trafficSeconds: result.figures.trafficSeconds,
      ordersAcceptedSeconds: result.figures.ordersAcceptedSeconds,
      failoverRunSeconds: result.figures.failoverRunSeconds,
      failbackSeconds: result.figures.failbackSeconds,
      failbackRunSeconds: result.figures.failbackRunSeconds,
    },
    result: { passed: result.ok, problems: [...result.problems], evidenceProblems: [] },
    executionArn: result.failoverExecutionArn,
    experimentId: result.experimentId,
    commit: run.commit,
    startedBy: run.startedBy,
    startedAt: run.startedAt.toISOString(),
    endedAt: run.endedAt.toISOString(),
    details: {
      expectedPromotion: options.expectedPromotion,
      promotion: result.figures.promotion ?? 'unknown',
      failbackExecutionArn: result.failbackExecutionArn ?? 'none',
    },
  };
}

/** The restore drill's report. */
export function restoreReportDocument(options: RestoreOptions, result: RestoreDrillResult, run: RunRecord): DrillReportDocument {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    kind: 'restore',
    appName: options.appName,
    environment: options.environmentSuffix,
    account: run.account,
    regions: { target: options.region, other: options.otherRegion },
    targets: { restoreTargetMinutes: options.restoreTargetMinutes, missingOrders: 0 },
    figures: { ...result.figures },
    result: { passed: result.ok, problems: [...result.problems], evidenceProblems: [] },
    executionArn: null,
    experimentId: null,
    commit: run.commit,
    startedBy: run.startedBy,
    startedAt: run.startedAt.toISOString(),
    endedAt: run.endedAt.toISOString(),
    details: { ...result.details, instanceClass: options.instanceClass },
  };
}

/**
 * Writes the report and prints where it went; an upload problem goes to `printError` and never
 * changes the drill's verdict (the caller exits by the drill's own result).
 */
export async function recordEvidence(
  document: DrillReportDocument,
  deps: DrillReportDependencies,
  print: (line: string) => void,
  printError: (line: string) => void,
): Promise<void> {
  try {
    const location = await writeDrillReport(document, deps);
    for (const problem of location.report.result.evidenceProblems) printError(`evidence: ${problem}`);
    for (const line of evidenceSummary(location)) print(line);
  } catch (error) {
    // Not even the local copy could be written (a full disk, no permission): say so, keep the verdict.
    printError(`evidence: the drill report could not be written: ${(error as Error).message}`);
  }
}

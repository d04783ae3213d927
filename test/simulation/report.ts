import { INVARIANTS, InvariantName, SequenceReport } from './simulation';

/**
 * The settings the simulation synthesizes the app with: failback after a minute, so sequences stay
 * short, and its own environment suffix, so its control table and switch parameter are not the ones
 * another test file uses in the same emulator at the same time.
 */
export const SIMULATION_CONFIG = { failbackAfterHealthySeconds: 60, probeRestartAfterSeconds: 60, environmentSuffix: 'sim' } as const;

/** Required invariants a report breaks. */
export function brokenInvariants(report: SequenceReport): InvariantName[] {
  return [...new Set(report.violations.map((violation) => violation.invariant))].filter((name) => INVARIANTS[name].required);
}

/** The command that replays one sequence and seed. */
export function replayCommand(report: SequenceReport): string {
  const named = report.sequence.startsWith('random-') ? '' : ` --sequence ${report.sequence}`;
  return `npm run simulate -- --seed ${report.seed}${named}`;
}

/** One table per sequence: steps, simulated seconds, runs, each invariant. */
export function formatReport(report: SequenceReport): string {
  const lines = [
    `sequence ${report.sequence} (seed ${report.seed}): ${report.ticks} steps, ${report.simulatedSeconds} simulated s, ${report.runs.length} runs` +
      (report.runs.length > 0 ? ` (${report.runs.map((run) => `${run.region} ${run.mode} ${run.status}${run.error ? ` ${run.error}` : ''}`).join('; ')})` : ''),
  ];
  for (const [name, invariant] of Object.entries(INVARIANTS) as [InvariantName, (typeof INVARIANTS)[InvariantName]][]) {
    const broken = report.violations.filter((violation) => violation.invariant === name);
    const status = report.notChecked.includes(name) ? 'not checked yet' : broken.length === 0 ? 'ok' : `BROKEN (${broken.length})`;
    lines.push(`  ${status.padEnd(16)} ${name}${invariant.required ? '' : ' (reported)'}`);
    for (const violation of broken.slice(0, 3)) lines.push(`      at ${violation.at} s: ${violation.detail}`);
  }
  const { orders } = report;
  lines.push(
    `  orders: ${orders.acknowledged} acknowledged, ${orders.inWriter} in the writer; ${orders.lostInFailovers} lost in failovers' lag, ${orders.discardedAtRejoin} discarded when an old writer rejoined, ${orders.deadLettered} dead-lettered, ` +
      `${orders.blockedInvocations} invocations paused by rds.global_db_rpo, ${orders.lostWriteAnswers} DynamoDB answers lost`,
  );
  if (brokenInvariants(report).length > 0) lines.push(`  replay: ${replayCommand(report)}`);
  return lines.join('\n');
}

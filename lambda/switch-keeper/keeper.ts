import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { Logger } from '@aws-lambda-powertools/logger';
import { publishSwitch, readSwitch } from '../shared/switches';
import { type SwitchPosition, type SwitchRef } from '../contracts/switches';

/**
 * One run of the switch keeper. Route 53 judges an alarm health check from the alarm's data
 * stream, one-minute period by period, so the position in the parameter counts only while
 * datapoints carry it: each run reads the parameter and publishes its value (1 thrown, 0
 * released) `publishesPerMinute` times, evenly spaced, so every period has data even when a
 * pass fails or the schedule drifts.
 */

export interface KeeperDependencies {
  readonly ssm: SSMClient;
  readonly cloudwatch: CloudWatchClient;
  /** The switch this region hosts. */
  readonly ref: SwitchRef;
  /** Passes in this run, one every 60 s / publishesPerMinute from its start. */
  readonly publishesPerMinute: number;
  /** A pass is not started with less time than this left before the function's timeout. */
  readonly reserveMs: number;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Time left before the function's timeout. */
  readonly remainingMs: () => number;
  readonly logger: Logger;
}

/** One published datapoint. */
export interface KeeperPass {
  /** When it was published (ISO 8601). */
  readonly at: string;
  readonly position: SwitchPosition;
  /** `parameter`: read in this pass; `last-read`: the read failed, the position read earlier in this run. */
  readonly source: 'parameter' | 'last-read';
}

export interface KeeperOutcome {
  readonly passes: KeeperPass[];
}

/** One run: read and publish, `publishesPerMinute` times, stopping before the timeout. */
export async function keepSwitch(deps: KeeperDependencies): Promise<KeeperOutcome> {
  const { ref, logger } = deps;
  const intervalMs = 60_000 / deps.publishesPerMinute;
  const startedAt = deps.now();
  const passes: KeeperPass[] = [];
  const failures: string[] = [];
  let lastRead: SwitchPosition | undefined;

  for (let pass = 0; pass < deps.publishesPerMinute; pass++) {
    const waitMs = startedAt + pass * intervalMs - deps.now();
    if (deps.remainingMs() - Math.max(waitMs, 0) < deps.reserveMs) {
      logger.warn('Stopping before the timeout; the next run publishes again', {
        pass,
        passesPlanned: deps.publishesPerMinute,
        remainingMs: deps.remainingMs(),
      });
      break;
    }
    if (waitMs > 0) await deps.sleep(waitMs);

    let position: SwitchPosition;
    let source: KeeperPass['source'] = 'parameter';
    try {
      position = await readSwitch(deps.ssm, ref);
      lastRead = position;
    } catch (error) {
      if (lastRead === undefined) {
        // Never guess: publishing `released` here would undo a thrown switch.
        throw new Error(
          `switch keeper: cannot read the evacuation switch ${ref.parameterName} in ${ref.hostRegion} and no position was read earlier in this run; nothing published`,
          { cause: error },
        );
      }
      logger.error('Cannot read the evacuation switch; publishing the position read earlier in this run', {
        error,
        parameter: ref.parameterName,
        position: lastRead,
      });
      failures.push(`pass ${pass + 1}: read failed (${errorMessage(error)})`);
      position = lastRead;
      source = 'last-read';
    }

    const at = new Date(deps.now());
    try {
      await publishSwitch(deps.cloudwatch, ref, position, at);
      passes.push({ at: at.toISOString(), position, source });
    } catch (error) {
      // The next pass may get through: keeping the stream fed comes first, the run fails at the end.
      logger.error('Cannot publish the evacuation switch', { error, evacuatedRegion: ref.evacuatedRegion, position });
      failures.push(`pass ${pass + 1}: publish failed (${errorMessage(error)})`);
    }
  }

  logger.info('Evacuation switch published', { evacuatedRegion: ref.evacuatedRegion, parameter: ref.parameterName, passes });
  if (failures.length > 0) {
    // Failing the run makes the function's Errors metric show a keeper that is not keeping up.
    throw new Error(
      `switch keeper: ${passes.length} of ${deps.publishesPerMinute} passes published the evacuation switch ${ref.parameterName} of ${ref.evacuatedRegion}; ${failures.join('; ')}`,
    );
  }
  return { passes };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

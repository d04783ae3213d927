import { z } from 'zod';
import { CROSS_REGION_TIMEOUTS } from '../shared/cross-region';

/**
 * The contract between the switch keeper's construct (lib/switch-keeper.ts) and its handler: the
 * environment and the timing. No CDK and no SDK here, so both sides import it.
 */

/** EventBridge's shortest schedule: the keeper runs once a minute. */
export const KEEPER_SCHEDULE_SECONDS = 60;

/** The function's timeout: just under the schedule, so one run ends before the next begins. */
export const KEEPER_TIMEOUT_SECONDS = KEEPER_SCHEDULE_SECONDS - 5;

/**
 * Time a pass needs before the timeout: one call attempt that runs into the client's connection
 * and request timeouts. With less left, the keeper stops; the next run is due within seconds.
 */
export const PASS_RESERVE_MS = CROSS_REGION_TIMEOUTS.connectionTimeoutMs + CROSS_REGION_TIMEOUTS.requestTimeoutMs;

/**
 * The most passes a run can make: the last one starts (60 s - 60 s / n) after the first and must
 * still find PASS_RESERVE_MS before the timeout.
 */
export const MAX_PUBLISHES_PER_MINUTE = Math.floor((KEEPER_SCHEDULE_SECONDS * 1000) / (KEEPER_SCHEDULE_SECONDS * 1000 + PASS_RESERVE_MS - KEEPER_TIMEOUT_SECONDS * 1000));

/** What the keeper is told; AWS_REGION (the host region) is set by the Lambda runtime. */
export const SwitchKeeperEnvironmentSchema = z
  .object({
    AWS_REGION: z.string().min(1),
    /** The SSM parameter (in this region) holding the position: `thrown` or `released`. */
    SWITCH_PARAMETER: z.string().startsWith('/'),
    /** The region the switch takes out of DNS: the other one. */
    EVACUATED_REGION: z.string().min(1),
    METRIC_NAMESPACE: z.string().min(1),
    METRIC_NAME: z.string().min(1),
    /** Passes per run, evenly spaced over the minute. */
    PUBLISHES_PER_MINUTE: z.coerce.number().int().min(1).max(MAX_PUBLISHES_PER_MINUTE),
  })
  .refine((environment) => environment.EVACUATED_REGION !== environment.AWS_REGION, {
    message: 'EVACUATED_REGION must be the other region: a switch never lives in the region it evacuates',
    path: ['EVACUATED_REGION'],
  });

/** The variables the construct sets (everything but what the runtime provides). */
export type SwitchKeeperVariables = Record<Exclude<keyof z.input<typeof SwitchKeeperEnvironmentSchema>, 'AWS_REGION'>, string>;

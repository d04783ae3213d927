import * as z from 'zod/mini';
import { CROSS_REGION_TIMEOUTS } from '../shared/cross-region';
import { defineEnvironment, FunctionContract, integer, parameterName, text } from './environment';

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
export const MAX_PUBLISHES_PER_MINUTE = Math.floor(
  (KEEPER_SCHEDULE_SECONDS * 1000) / (KEEPER_SCHEDULE_SECONDS * 1000 + PASS_RESERVE_MS - KEEPER_TIMEOUT_SECONDS * 1000),
);

/** The evacuation switch's keeper: lib/routing/switch-keeper.ts deploys lambda/switch-keeper. */
export const SWITCH_KEEPER = {
  codeFolder: 'switch-keeper',
  service: 'switch-keeper',
  environment: defineEnvironment(
    {
      AWS_REGION: text(),
      /** The SSM parameter (in this region) holding the position: `thrown` or `released`. */
      SWITCH_PARAMETER: parameterName(),
      /** The region the switch takes out of DNS: the other one. */
      EVACUATED_REGION: text(),
      METRIC_NAMESPACE: text(),
      METRIC_NAME: text(),
      /** Passes per run, evenly spaced over the minute. */
      PUBLISHES_PER_MINUTE: integer(1).check(z.lte(MAX_PUBLISHES_PER_MINUTE, `must be at most ${MAX_PUBLISHES_PER_MINUTE}`)),
    },
    (environment) =>
      environment.EVACUATED_REGION === environment.AWS_REGION
        ? { variable: 'EVACUATED_REGION', problem: 'must be the other region: a switch never lives in the region it evacuates' }
        : undefined,
  ),
} satisfies FunctionContract;

import * as z from 'zod/mini';
import { PEER_VARIABLES } from './common';
import { arn, defineEnvironment, flag, FunctionContract, integer, parameterName, text, url } from './environment';
import type { HealthProbe } from './health';

/** The failover state machine's steps: lib/failover/failover-orchestrator.ts deploys lambda/failover-steps. */
export const FAILOVER_STEPS = {
  codeFolder: 'failover-steps',
  service: 'failover-steps',
  environment: defineEnvironment({
    ...PEER_VARIABLES,
    OWN_API_URL: url(),
    API_HOST_NAME: text(),
    OWN_API_TARGET: text(),
    DB_CLUSTER_ID: text(),
    METRIC_NAMESPACE: text(),
    EVACUATION_METRIC_NAME: text(),
    SWITCH_PARAMETER: parameterName(),
    GLOBAL_CLUSTER_ID: text(),
    OWN_CLUSTER_ARN: arn(),
    REQUIRE_DATA_LOSS_APPROVAL: flag(),
    LOCK_SECONDS: integer(1),
    VALIDATION_TIMEOUT_SECONDS: integer(1),
    POLL_MS: integer(100),
    /** Whether the unplanned drill's switch is honoured (config `faultInjectionDrills`: the test environment only). */
    DRILL_SWITCH_ENABLED: flag(),
    /** The drill's switch (ParameterKey.drillForcedPromotion), read only when enabled. */
    DRILL_SWITCH_PARAMETER: parameterName(),
  }),
} satisfies FunctionContract;

/** The drill switch's value that forces a failover allowing data loss (any other value, or none, forces nothing). */
export const DRILL_FORCED_FAILOVER = 'failover';

/** The steps' metrics (in METRIC_NAMESPACE), shared with the alarms and the dashboard. */
export const FAILOVER_METRICS = {
  /** A run's whole duration, recorded at its end. */
  duration: 'FailoverDuration',
  /** Each step's duration (dimension `Step`). */
  stepDuration: 'FailoverStepDuration',
} as const;

/** What the state machine sends; one function serves the steps that need logic outside the VPC. */
export const FailoverMode = z.enum(['planned', 'unplanned'], { error: 'mode must be "planned" or "unplanned"' });
export type FailoverMode = z.infer<typeof FailoverMode>;

/**
 * The execution's input. `mode` says what was seen (planned: both regions up, a drill or
 * maintenance; unplanned: an outage). `allowDataLoss` bounds the promotion: a planned run never
 * loses data; an unplanned one may fail over allowing data loss unless it says false (the prober
 * says false when the primary still answers).
 */
export const FailoverInputSchema = z.object({
  mode: FailoverMode,
  reason: z.string().check(z.minLength(1, 'reason must say why the failover runs'), z.maxLength(500)),
  allowDataLoss: z.optional(z.boolean({ error: 'allowDataLoss must be true or false' })),
});
export type FailoverInput = z.infer<typeof FailoverInputSchema>;

export const StepRequestSchema = z.discriminatedUnion(
  'action',
  [
    z.object({ action: z.literal('preflight'), input: FailoverInputSchema }),
    z.object({ action: z.literal('promote'), kind: z.enum(['switchover', 'failover'], { error: 'kind must be "switchover" or "failover"' }) }),
    z.object({ action: z.literal('setSwitches'), activeRegion: z.string().check(z.minLength(1, 'activeRegion must name a region')) }),
    z.object({ action: z.literal('validate'), canaryOrderId: z.string().check(z.regex(/^[A-Za-z0-9._:-]{1,64}$/, 'canaryOrderId must be a client order id')) }),
    z.object({
      action: z.literal('record'),
      executionArn: z.string().check(z.minLength(1)),
      startedAt: z.iso.datetime({ offset: true }),
      outcome: z.enum(['succeeded', 'failed']),
      mode: z.union([FailoverMode, z.literal('unknown')]),
    }),
  ],
  { error: 'action must be one of preflight, promote, setSwitches, validate, record' },
);
export type StepRequest = z.infer<typeof StepRequestSchema>;

/**
 * A request as the state machine sends it: each field the schema's, or a value the state machine
 * fills in at run time (`JsonPath`, given as `Dynamic` by the construct), so a misspelt action or
 * field does not compile.
 */
export type StepPayload<Dynamic> = StepRequest extends infer R
  ? R extends { action: string }
    ? { [K in keyof R]: K extends 'action' ? R[K] : R[K] | Dynamic }
    : never
  : never;

/** How the promote step moves the writer here: not at all, a switchover, or a failover allowing data loss. */
export type PromotionKind = 'none' | 'switchover' | 'failover';

/** What the preflight step returns, at `$.preflight` of the execution (lambda/contracts/failover-execution.ts). */
export interface PreflightResult {
  /** Whether failover may proceed; `problems` says why not. */
  readonly ready: boolean;
  readonly problems: string[];
  readonly own: HealthProbe;
  readonly peer: HealthProbe;
  /** The peer region answered at all (a planned failover needs it for the switchover). */
  readonly peerAnswers: boolean;
  /** This region's Aurora replication lag in milliseconds (latest minute's maximum), or null when none is reported. */
  readonly replicationLagMs: number | null;
  /**
   * The control state the fence's conditional write expects, the epoch it writes, and the one a
   * rollback writes. DynamoDB numbers travel as strings in Step Functions (`N`), hence the texts.
   */
  readonly control: {
    readonly activeRegion: string;
    readonly fencingEpoch: number;
    readonly fencingEpochText: string;
    readonly nextEpochText: string;
    readonly restoreEpochText: string;
  };
  /** Epoch seconds for the lock: now, and when it lapses. */
  readonly lock: { readonly nowText: string; readonly expiresAtText: string };
  /** This region is already active, undrained, and holds the writer: the run stops, changing nothing. */
  readonly alreadyActive: boolean;
  /** Whether this run may lose data (planned: never; unplanned: unless the input says false). */
  readonly allowDataLoss: boolean;
  /** The promotion the run will ask for (`none` when this region already holds the writer). */
  readonly promotion: { readonly kind: PromotionKind | 'impossible'; readonly detail: string; readonly writerRegion: string | null };
  /** A person must approve before the failover allowing data loss is sent. */
  readonly approvalRequired: boolean;
  /** What the fence writes: the regions drained once this region is active, as a DynamoDB list. */
  readonly roles: { readonly drainedRegions: readonly string[]; readonly drainedList: readonly { readonly S: string }[] };
  /** What a rollback writes: the roles of the region that was active before this run. */
  readonly rollbackRoles: { readonly drainedRegions: readonly string[]; readonly drainedList: readonly { readonly S: string }[] };
}

import { defineEnvironment, FunctionContract, integer, text, url } from './environment';

/** The order intake (POST /orders): lib/order-path/order-api.ts deploys lambda/intake. */
export const INTAKE = {
  codeFolder: 'intake',
  service: 'order-intake',
  environment: defineEnvironment({
    JOURNAL_TABLE: text(),
    QUEUE_URL: url(),
    AWS_REGION: text(),
    PENDING_SHARDS: integer(1),
    MAX_BODY_BYTES: integer(1),
  }),
} satisfies FunctionContract;

/** Intake's metrics, by outcome (service `order-intake`), shared with the alarms that watch them. */
export const INTAKE_METRICS = {
  accepted: 'OrdersAccepted',
  duplicate: 'OrdersDuplicate',
  rejected: 'OrdersRejected',
  conflict: 'OrdersConflicting',
  journal_unavailable: 'JournalWriteFailures',
  /** Journaled and acknowledged, but not queued: reconciliation applies them. */
  not_queued: 'OrdersNotQueued',
} as const;

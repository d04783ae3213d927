import { BACKUP_VAULT_CLEANER } from './backup-vault-cleaner';
import type { FunctionContract } from './environment';
import { FAILOVER_STEPS } from './failover-steps';
import { HEALTH } from './health';
import { INTAKE } from './intake';
import { MIGRATE } from './migrate';
import { ORDER_LOOKUP } from './order-lookup';
import { PROBER } from './prober';
import { PROCESSOR } from './processor';
import { READINESS } from './readiness';
import { RECONCILE } from './reconcile';
import { SWITCH_KEEPER } from './switch-keeper';

/**
 * Every handler's contract with the construct that deploys it. `lib/` imports handler code only
 * from this folder; each handler reads its environment through its own contract here.
 */
export const FUNCTION_CONTRACTS: readonly FunctionContract[] = [
  INTAKE,
  ORDER_LOOKUP,
  HEALTH,
  PROCESSOR,
  RECONCILE,
  FAILOVER_STEPS,
  PROBER,
  READINESS,
  SWITCH_KEEPER,
  MIGRATE,
  BACKUP_VAULT_CLEANER,
];

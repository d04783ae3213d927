import { z } from 'zod';
import { flag, integer } from './config-fields';

/**
 * The configuration of recovery beyond replication and of the drills: AWS Backup, the restore
 * drill, fault injection and database monitoring. Part of the one config schema
 * (`lib/core/config.ts` spreads these fields into it and runs `checkRecovery` with its other
 * cross-field rules); kept here so each concern's keys and rules read together.
 */

/** AWS Backup Vault Lock: none, governance (removable by anyone with the IAM permission) or compliance (permanent). */
export const VAULT_LOCK_MODES = ['none', 'governance', 'compliance'] as const;

/** The intervals Aurora's enhanced monitoring accepts, in seconds (0 turns it off). */
export const MONITORING_INTERVALS = [0, 1, 5, 10, 15, 30, 60] as const;

export const RECOVERY_FIELDS = {
  /**
   * Hours between AWS Backup recovery points of the Aurora cluster and the tables, each copied to
   * the other region's vault. Hourly: logical corruption (a wrong DELETE, a bad deploy) replicates
   * to both regions at once, and these copies are the only ones outside the replication path, so
   * the hour is what such a mistake can cost from them. In-region point-in-time recovery (Aurora's
   * automated backups, DynamoDB PITR) is finer.
   */
  backupFrequencyHours: integer(1, 24).default(1),
  /** Days each recovery point is kept in its own region's vault (35: a month's audit cycle, as long as PITR reaches back). */
  backupRetentionDays: integer(1, 36500).default(35),
  /** Days each copy is kept in the other region's vault. */
  backupCopyRetentionDays: integer(1, 36500).default(35),
  /**
   * Keep the vaults and their recovery points when the stacks are destroyed. Off by default, so a
   * teardown leaves nothing behind; on is what production wants (README, "Backups").
   */
  keepBackupsOnTeardown: flag().default(false),
  /** Vault Lock on both vaults. Compliance mode cannot be undone once its grace period ends. */
  backupVaultLock: z.enum(VAULT_LOCK_MODES, { error: `must be one of ${VAULT_LOCK_MODES.join(', ')}` }).default('none'),
  /** The restore drill's target: minutes from starting a restore to a restored cluster that answers. */
  restoreTargetMinutes: integer(5, 1440).default(120),
  /**
   * Deploy what the unplanned drill needs: the FIS experiment template that injects Lambda errors
   * into the primary's health and intake functions, FIS's Lambda extension and configuration
   * bucket, and the drill-only switch that forces a data-losing failover. The pipeline turns it on
   * for the test environment only; production never has it.
   */
  faultInjectionDrills: flag().default(false),
  /** Seconds between Aurora enhanced-monitoring samples (0 turns enhanced monitoring off). */
  databaseMonitoringIntervalSeconds: z.coerce
    .number()
    .refine((value) => (MONITORING_INTERVALS as readonly number[]).includes(value), { message: `must be one of ${MONITORING_INTERVALS.join(', ')}` })
    .default(60),
};

interface RecoveryKeys {
  readonly keepBackupsOnTeardown: boolean;
  readonly backupVaultLock: (typeof VAULT_LOCK_MODES)[number];
}

/** The cross-field rules of these keys, as `key: rule` issues. */
export function checkRecovery(config: RecoveryKeys, ctx: z.RefinementCtx): void {
  if (config.backupVaultLock !== 'none' && !config.keepBackupsOnTeardown) {
    ctx.addIssue({
      code: 'custom',
      path: ['backupVaultLock'],
      message: `${config.backupVaultLock} needs keepBackupsOnTeardown=true: a locked vault's recovery points cannot be deleted before their retention ends, so a teardown could not remove them`,
    });
  }
}

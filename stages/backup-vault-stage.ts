import { Stack, Stage, StageProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { applyGuardrails } from '../lib/core/compliance';
import type { AppConfig } from '../lib/core/config';
import { Naming, Purpose, regionCode } from '../lib/core/naming';
import { BackupAccountVault } from '../lib/data/backup-account-vault';
import { stageLogging } from './stage-logging';

export interface BackupVaultStageProps extends StageProps {
  /** Production's config: its account copies into the vault, its suffix and app name name it. */
  readonly config: AppConfig;
  /** The backup account. */
  readonly backupAccount: string;
  /** The region of this vault (one stage per region). */
  readonly region: string;
}

/** Construct id of the backup account's stage in `region`. */
export function backupVaultStageId(config: AppConfig, region: string): string {
  return `Dr-${config.environmentSuffix}-backup-${regionCode(region)}`;
}

/**
 * The backup account's vault in one region (lib/data/backup-account-vault.ts), deployed by the
 * pipeline before production, whose plans copy into it. Like a regional stage, every log group
 * (the cleaner's) is encrypted with the stack's own key and CDK's providers log to a group the
 * stack owns.
 */
export class BackupVaultStage extends Stage {
  public readonly vault: BackupAccountVault;

  constructor(scope: Construct, id: string, props: BackupVaultStageProps) {
    const env = { account: props.backupAccount, region: props.region };
    super(scope, id, { ...props, env });
    const { config } = props;
    const naming = Naming.forDeployment({ ...config, account: props.backupAccount }, props.region);
    applyGuardrails(this, { environment: config.environmentSuffix, region: props.region, application: config.appName });
    const stack = new Stack(this, 'BackupVault', {
      stackName: naming.name('stack', Purpose.backupCopies),
      description: `${config.appName} backup account vault (${props.region}) for the copies of ${config.environmentSuffix}'s recovery points`,
      env,
    });
    stageLogging(this, stack, naming, config.logRetentionDays);
    this.vault = new BackupAccountVault(stack, 'Vault', { naming, sourceAccount: config.account, config });
  }
}

import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import type * as backup from 'aws-cdk-lib/aws-backup';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { AppConfig } from '../core/config';
import { Naming, Purpose } from '../core/naming';
import { encryptedVault, vaultLock, VaultConfig } from './backup-vault';

/**
 * The backup account's vault in one region: it receives a copy of every recovery point production
 * makes in that region, so a compromised production account, which can delete its own vaults,
 * cannot delete these. Its access policy lets the production account copy in
 * (`backup:CopyIntoBackupVault`, the one cross-account action a vault policy can grant: AWS Backup
 * developer guide, "Vault access policies") and nothing else; its key and Vault Lock are this
 * account's. AWS Backup copies across accounts only within one AWS Organization with cross-account
 * backup turned on in the management account ("Creating backup copies across AWS accounts").
 *
 * Each production region copies into the backup account's vault of the same region: a copy that
 * changes the account and not the region as well. The other region's copy already exists in
 * production (each region copies to the other), and in the backup account through that region's
 * own copy.
 */

/** The config keys the backup account's vault reads. */
export type BackupAccountVaultConfig = VaultConfig & Pick<AppConfig, 'backupCopyRetentionDays'>;

export interface BackupAccountVaultProps {
  /** Names in the backup account (its account, production's suffix, this region). */
  readonly naming: Naming;
  /** The account whose plans copy into this vault (production's). */
  readonly sourceAccount: string;
  readonly config: BackupAccountVaultConfig;
}

export class BackupAccountVault extends Construct {
  public readonly vault: backup.BackupVault;

  constructor(scope: Construct, id: string, props: BackupAccountVaultProps) {
    super(scope, id);
    const { vault } = encryptedVault(this, {
      naming: props.naming,
      purpose: Purpose.backupCopies,
      config: props.config,
      lock: vaultLock(props.config, [props.config.backupCopyRetentionDays]),
    });
    vault.addToAccessPolicy(
      new iam.PolicyStatement({
        actions: ['backup:CopyIntoBackupVault'],
        principals: [new iam.AccountPrincipal(props.sourceAccount)],
        resources: ['*'],
      }),
    );
    this.vault = vault;
  }
}

/** The backup account's vault in the region of `naming` (production's), by name: no cross-account reference. */
export function backupAccountVaultArn(naming: Naming, backupAccount: string, scope: Construct): string {
  const inBackupAccount = new Naming({ ...naming.props, account: backupAccount });
  return Arn.format(
    {
      service: 'backup',
      account: backupAccount,
      region: naming.region,
      resource: 'backup-vault',
      resourceName: inBackupAccount.name('backupVault', Purpose.backupCopies),
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    },
    Stack.of(scope),
  );
}

/**
 * Lets the backup account use a production key whose data it copies: AWS Backup copies a recovery
 * point into another account only when that account may use the key that encrypts it (the Aurora
 * cluster's, and the vault's for what AWS Backup fully manages), through grants made for AWS
 * resources ("Creating backup copies across AWS accounts").
 */
export function shareKeyWithBackupAccount(key: kms.IKey, backupAccount: string): void {
  const principals = [new iam.AccountPrincipal(backupAccount)];
  key.addToResourcePolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt', 'kms:DescribeKey'], principals, resources: ['*'] }));
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      actions: ['kms:CreateGrant'],
      principals,
      resources: ['*'],
      conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    }),
  );
}

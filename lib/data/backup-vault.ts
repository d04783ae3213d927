import { Arn, ArnFormat, CfnResource, CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { BACKUP_VAULT_CLEANER, VAULT_CLEANER_TIMEOUT_SECONDS } from '../../lambda/contracts/backup-vault-cleaner';
import { acknowledgeScopedWildcards, DestroyableGuard } from '../core/compliance';
import type { AppConfig } from '../core/config';
import { HandlerFunction } from '../core/handler-function';
import { handlerProvider } from '../core/handler-provider';
import { Naming, Purpose } from '../core/naming';

/**
 * A backup vault under a key of its own, destroyable by default: each region's vault of the
 * workload (data/backup.ts) and the backup account's vault (data/backup-account-vault.ts). Built
 * straight into the given scope (ids Key, Vault, Cleaner, CleanerProvider, EmptyOnTeardown), so the
 * workload's vault keeps the logical ids it was first deployed with.
 *
 * - Teardown: by default a cleaner deletes the vault's recovery points when the stack is
 *   destroyed, so the vault can go too. With `keepBackupsOnTeardown` the vault and its key are
 *   retained instead (the only Retain the destroyability guard permits).
 */

/** The config keys a vault reads. */
export type VaultConfig = Pick<AppConfig, 'keepBackupsOnTeardown' | 'backupVaultLock' | 'logRetentionDays' | 'lambdaSourceMaps'>;

export interface EncryptedVaultProps {
  readonly naming: Naming;
  /** Names the vault, its key alias and (with the naming's suffix) nothing else. */
  readonly purpose: string;
  readonly config: VaultConfig;
  /** Vault Lock. @default - none */
  readonly lock?: backup.LockConfiguration;
}

/** A Vault Lock grace period for compliance mode: AWS Backup's least (3 days), after which the lock is permanent. */
const COMPLIANCE_GRACE_DAYS = 3;

/** The vault and its key, in `scope`. */
export function encryptedVault(scope: Construct, props: EncryptedVaultProps): { vault: backup.BackupVault; key: kms.Key } {
  const { naming, config } = props;
  const keep = config.keepBackupsOnTeardown;
  const removalPolicy = keep ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
  const vaultName = naming.name('backupVault', props.purpose);
  const key = new kms.Key(scope, 'Key', {
    alias: naming.name('keyAlias', props.purpose),
    description: `Encrypts the recovery points in backup vault ${vaultName}`,
    enableKeyRotation: true,
    removalPolicy,
  });
  const vault = new backup.BackupVault(scope, 'Vault', {
    backupVaultName: vaultName,
    encryptionKey: key,
    removalPolicy,
    lockConfiguration: props.lock,
  });
  if (keep) {
    const reason = 'config keepBackupsOnTeardown=true keeps the recovery points and the key that decrypts them';
    DestroyableGuard.permitRetain(vault.node.defaultChild as CfnResource, reason);
    DestroyableGuard.permitRetain(key.node.defaultChild as CfnResource, reason);
  } else {
    emptyOnTeardown(scope, props, vaultName, vault);
  }
  return { vault, key };
}

/**
 * Vault Lock from config, for a vault whose recovery points are kept `retentions` days: governance
 * keeps a minimum retention; compliance also becomes permanent after its grace period.
 */
export function vaultLock(config: Pick<AppConfig, 'backupVaultLock'>, retentions: number[]): backup.LockConfiguration | undefined {
  if (config.backupVaultLock === 'none') return undefined;
  const least = Math.min(...retentions);
  const most = Math.max(...retentions);
  return {
    minRetention: Duration.days(least),
    // AWS Backup wants a maximum above the minimum, or none.
    ...(most > least ? { maxRetention: Duration.days(most) } : {}),
    ...(config.backupVaultLock === 'compliance' ? { changeableFor: Duration.days(COMPLIANCE_GRACE_DAYS) } : {}),
  };
}

/** The cleaner that deletes the vault's recovery points when the stack is destroyed. */
function emptyOnTeardown(scope: Construct, props: EncryptedVaultProps, vaultName: string, vault: backup.BackupVault): void {
  const { naming, config } = props;
  const { function: fn, role } = new HandlerFunction(scope, 'Cleaner', {
    naming,
    purpose: Purpose.backupCleaner,
    contract: BACKUP_VAULT_CLEANER,
    variables: {},
    description: `Deletes the recovery points of backup vault ${vaultName} when the stack is destroyed`,
    timeout: Duration.seconds(VAULT_CLEANER_TIMEOUT_SECONDS),
    memorySize: 256,
    logRetention: config.logRetentionDays,
    sourceMaps: config.lambdaSourceMaps,
    tracing: false,
  });
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['backup:ListRecoveryPointsByBackupVault'], resources: [vault.backupVaultArn] }));
  // DeleteRecoveryPoint is authorised on the recovery point, whose ARN is the underlying snapshot's
  // or backup's and not known in advance; the condition keeps it to this vault.
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['backup:DeleteRecoveryPoint'],
      resources: ['*'],
      conditions: { StringEquals: { 'backup:BackupVaultName': vaultName } },
    }),
  );
  // Deleting an Aurora recovery point deletes its cluster snapshot (AWS Backup names them awsbackup:*) through RDS.
  const snapshots = Arn.format(
    { service: 'rds', resource: 'cluster-snapshot', resourceName: 'awsbackup:*', arnFormat: ArnFormat.COLON_RESOURCE_NAME },
    Stack.of(scope),
  );
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['rds:DeleteDBClusterSnapshot'], resources: [snapshots] }));
  acknowledgeScopedWildcards(role, ['*'], 'DeleteRecoveryPoint is limited to this vault by the backup:BackupVaultName condition');
  acknowledgeScopedWildcards(role, [snapshots], 'The cluster snapshots AWS Backup creates, which deleting a recovery point removes');
  const provider = handlerProvider(scope, 'CleanerProvider', {
    onEventHandler: fn,
    functionName: naming.name('function', Purpose.backupCleanerProvider),
    logRetention: config.logRetentionDays,
    handles: 'the cleaner function',
  });
  const cleaner = new CustomResource(scope, 'EmptyOnTeardown', {
    serviceToken: provider.serviceToken,
    resourceType: 'Custom::BackupVaultCleaner',
    properties: { VaultName: vaultName },
  });
  // Deleted before the vault: CloudFormation deletes in reverse dependency order.
  cleaner.node.addDependency(vault);
}

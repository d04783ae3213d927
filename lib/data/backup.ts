import { Arn, ArnFormat, CfnResource, CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { BACKUP_VAULT_CLEANER, VAULT_CLEANER_TIMEOUT_SECONDS } from '../../lambda/contracts/backup-vault-cleaner';
import { AwsCallSupport } from '../core/aws-call-support';
import { acknowledgeScopedWildcards, DestroyableGuard } from '../core/compliance';
import type { AppConfig } from '../core/config';
import { HandlerFunction } from '../core/handler-function';
import { handlerProvider } from '../core/handler-provider';
import { Naming, Purpose } from '../core/naming';

/** The config keys the backups read. */
export type BackupConfig = Pick<
  AppConfig,
  | 'backupFrequencyHours'
  | 'backupRetentionDays'
  | 'backupCopyRetentionDays'
  | 'keepBackupsOnTeardown'
  | 'backupVaultLock'
  | 'logRetentionDays'
  | 'lambdaSourceMaps'
>;

export interface RegionalBackupProps {
  /** Names for this region's resources. */
  readonly naming: Naming;
  /** The other region: its vault receives a copy of every recovery point made here. */
  readonly peerRegion: string;
  /** Identifier of this region's Aurora cluster (its member of the global database). */
  readonly clusterIdentifier: string;
  /** Names of the tables to back up (this region's replica of each global table). */
  readonly tableNames: readonly string[];
  readonly config: BackupConfig;
}

/** A Vault Lock grace period for compliance mode: AWS Backup's least (3 days), after which the lock is permanent. */
const COMPLIANCE_GRACE_DAYS = 3;
/** Hours a scheduled backup may wait to start, and then run, before AWS Backup cancels it: within the hour that follows. */
const START_WINDOW = Duration.hours(1);
const COMPLETION_WINDOW = Duration.hours(2);

/**
 * Backups outside the replication path, in one region: a vault encrypted with this stack's own
 * key, and a plan that backs up this region's Aurora cluster and table replicas every
 * `backupFrequencyHours` and copies each recovery point to the other region's vault (that region
 * does the same the other way, so whichever region survives holds copies of both).
 *
 * - Encryption: the vault's key encrypts what AWS Backup fully manages (DynamoDB with advanced
 *   features); Aurora recovery points keep the cluster's own key ("Encryption for backups in AWS
 *   Backup", https://docs.aws.amazon.com/aws-backup/latest/devguide/encryption.html).
 * - DynamoDB copies to another region need AWS Backup's advanced DynamoDB features, an account
 *   setting per region with no CloudFormation resource; a deploy-time call turns it on here
 *   (UpdateRegionSettings, ResourceTypeManagementPreference DynamoDB=true,
 *   https://docs.aws.amazon.com/aws-backup/latest/devguide/advanced-ddb-backup.html) and leaves
 *   it on at teardown: it is the account's, costs nothing, and other workloads may rely on it.
 * - Teardown: by default a cleaner deletes the vault's recovery points when the stack is
 *   destroyed, so the vault can go too. With `keepBackupsOnTeardown` the vault and its key are
 *   retained instead (the only Retain the destroyability guard permits).
 * - A separate backup account (the copy a compromised workload account cannot delete) is a
 *   further copy action on the same rule: `copyTo` below takes any vault ARN.
 * - Break-glass: nothing here changes with the writer's region (config `writerRegion`), so moving
 *   the writer touches no IAM resource of this construct.
 */
export class RegionalBackup extends Construct {
  public readonly vault: backup.IBackupVault;
  public readonly plan: backup.BackupPlan;
  /** The key that encrypts the vault. */
  public readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: RegionalBackupProps) {
    super(scope, id);
    const { naming, config } = props;
    const keep = config.keepBackupsOnTeardown;
    const removalPolicy = keep ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const vaultName = naming.name('backupVault', Purpose.backup);

    const key = new kms.Key(this, 'Key', {
      alias: naming.name('keyAlias', Purpose.backup),
      description: `Encrypts the recovery points in backup vault ${vaultName}`,
      enableKeyRotation: true,
      removalPolicy,
    });
    this.key = key;
    const vault = new backup.BackupVault(this, 'Vault', {
      backupVaultName: vaultName,
      encryptionKey: key,
      removalPolicy,
      lockConfiguration: vaultLock(config),
    });
    this.vault = vault;
    if (keep) {
      const reason = 'config keepBackupsOnTeardown=true keeps the recovery points and the key that decrypts them';
      DestroyableGuard.permitRetain(vault.node.defaultChild as CfnResource, reason);
      DestroyableGuard.permitRetain(key.node.defaultChild as CfnResource, reason);
    } else {
      this.emptyOnTeardown(props, vaultName, vault);
    }

    this.plan = new backup.BackupPlan(this, 'Plan', {
      backupPlanName: naming.name('backupPlan', Purpose.backup),
      backupVault: vault,
      backupPlanRules: [
        new backup.BackupPlanRule({
          ruleName: 'Scheduled',
          scheduleExpression: events.Schedule.cron({ minute: '0', hour: config.backupFrequencyHours === 1 ? '*' : `*/${config.backupFrequencyHours}` }),
          startWindow: START_WINDOW,
          completionWindow: COMPLETION_WINDOW,
          deleteAfter: Duration.days(config.backupRetentionDays),
          copyActions: [this.copyTo('PeerVault', Arn.format(peerVaultArnParts(naming, props.peerRegion), Stack.of(this)), config.backupCopyRetentionDays)],
        }),
      ],
    });
    const stack = Stack.of(this);
    this.plan.addSelection('Resources', {
      backupSelectionName: naming.name('backupPlan', Purpose.backup),
      resources: [
        backup.BackupResource.fromArn(
          Arn.format({ service: 'rds', resource: 'cluster', resourceName: props.clusterIdentifier, arnFormat: ArnFormat.COLON_RESOURCE_NAME }, stack),
        ),
        ...props.tableNames.map((tableName) =>
          backup.BackupResource.fromArn(Arn.format({ service: 'dynamodb', resource: 'table', resourceName: tableName }, stack)),
        ),
      ],
    });
    this.enableAdvancedDynamoDbBackup();
    Validations.of(this.plan).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
      reason: "AWS Backup's own service-role policy, which AWS maintains for the services it backs up (AWS Backup developer guide, 'Default service role')",
    });
  }

  /** A copy of every recovery point into `vaultArn` (imported as `id`), kept `days`. */
  private copyTo(id: string, vaultArn: string, days: number): backup.BackupPlanCopyActionProps {
    return {
      destinationBackupVault: backup.BackupVault.fromBackupVaultArn(this, id, vaultArn),
      deleteAfter: Duration.days(days),
    };
  }

  /** The cleaner that deletes the vault's recovery points when the stack is destroyed. */
  private emptyOnTeardown(props: RegionalBackupProps, vaultName: string, vault: backup.BackupVault): void {
    const { naming, config } = props;
    const { function: fn, role } = new HandlerFunction(this, 'Cleaner', {
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
      Stack.of(this),
    );
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['rds:DeleteDBClusterSnapshot'], resources: [snapshots] }));
    acknowledgeScopedWildcards(role, ['*'], 'DeleteRecoveryPoint is limited to this vault by the backup:BackupVaultName condition');
    acknowledgeScopedWildcards(role, [snapshots], 'The cluster snapshots AWS Backup creates, which deleting a recovery point removes');
    const provider = handlerProvider(this, 'CleanerProvider', {
      onEventHandler: fn,
      functionName: naming.name('function', Purpose.backupCleanerProvider),
      logRetention: config.logRetentionDays,
      handles: 'the cleaner function',
    });
    const cleaner = new CustomResource(this, 'EmptyOnTeardown', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::BackupVaultCleaner',
      properties: { VaultName: vaultName },
    });
    // Deleted before the vault: CloudFormation deletes in reverse dependency order.
    cleaner.node.addDependency(vault);
  }

  /** Turns on AWS Backup's advanced DynamoDB features in this region (needed to copy table backups across regions). */
  private enableAdvancedDynamoDbBackup(): void {
    const call: cr.AwsSdkCall = {
      service: 'Backup',
      action: 'updateRegionSettings',
      parameters: { ResourceTypeManagementPreference: { DynamoDB: true } },
      physicalResourceId: cr.PhysicalResourceId.of(`${Stack.of(this).region}:advanced-dynamodb-backup`),
    };
    const setting = new cr.AwsCustomResource(this, 'AdvancedDynamoDbBackup', {
      resourceType: 'Custom::AdvancedDynamoDbBackup',
      ...AwsCallSupport.of(this).customResourceProps(),
      onCreate: call,
      onUpdate: call,
      // UpdateRegionSettings has no resource-level permissions (Service Authorization Reference, AWS Backup).
      policy: cr.AwsCustomResourcePolicy.fromStatements([new iam.PolicyStatement({ actions: ['backup:UpdateRegionSettings'], resources: ['*'] })]),
    });
    Validations.of(setting).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'backup:UpdateRegionSettings is an account setting with no resource to scope it to',
    });
  }
}

/** The other region's vault, by name: both stages compute it, so no cross-stage reference. */
function peerVaultArnParts(naming: Naming, peerRegion: string) {
  return {
    service: 'backup',
    region: peerRegion,
    resource: 'backup-vault',
    resourceName: naming.forRegion(peerRegion).name('backupVault', Purpose.backup),
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  };
}

/** Vault Lock from config: governance keeps a minimum retention; compliance also becomes permanent after its grace period. */
function vaultLock(config: BackupConfig): backup.LockConfiguration | undefined {
  if (config.backupVaultLock === 'none') return undefined;
  // The vault holds its own recovery points and the other region's copies.
  const least = Math.min(config.backupRetentionDays, config.backupCopyRetentionDays);
  const most = Math.max(config.backupRetentionDays, config.backupCopyRetentionDays);
  return {
    minRetention: Duration.days(least),
    // AWS Backup wants a maximum above the minimum, or none.
    ...(most > least ? { maxRetention: Duration.days(most) } : {}),
    ...(config.backupVaultLock === 'compliance' ? { changeableFor: Duration.days(COMPLIANCE_GRACE_DAYS) } : {}),
  };
}

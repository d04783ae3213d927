import { Arn, ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { AwsCallSupport } from '../core/aws-call-support';
import type { AppConfig } from '../core/config';
import { backupAccountVaultArn, shareKeyWithBackupAccount } from './backup-account-vault';
import { encryptedVault, vaultLock } from './backup-vault';
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
  /**
   * The backup account: each recovery point is also copied to its vault in this region (production
   * only). @default - no copy outside this account
   */
  readonly backupAccount?: string;
}

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
 * - With a backup account (production only), each recovery point is also copied to that
 *   account's vault in this region (data/backup-account-vault.ts): the copy a compromised
 *   workload account cannot delete.
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

    const { vault, key } = encryptedVault(this, {
      naming,
      purpose: Purpose.backup,
      config,
      lock: vaultLock(config, [config.backupRetentionDays, config.backupCopyRetentionDays]),
    });
    this.vault = vault;
    this.key = key;
    if (props.backupAccount !== undefined) {
      shareKeyWithBackupAccount(key, props.backupAccount);
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
          copyActions: [
            this.copyTo('PeerVault', Arn.format(peerVaultArnParts(naming, props.peerRegion), Stack.of(this)), config.backupCopyRetentionDays),
            ...(props.backupAccount === undefined
              ? []
              : [this.copyTo('BackupAccountVault', backupAccountVaultArn(naming, props.backupAccount, this), config.backupCopyRetentionDays)]),
          ],
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

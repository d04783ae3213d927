import { Aspects, RemovalPolicy } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as backup from 'aws-cdk-lib/aws-backup';
import { DestroyableGuard } from '../../lib/core/compliance';
import { parseConfig } from '../../lib/core/config';
import { Purpose } from '../../lib/core/naming';
import { RegionRole } from '../../lib/core/region-settings';
import { RegionalBackup } from '../../lib/data/backup';
import { regionalStack } from '../helpers/stacks';

const TABLES = ['ddb-order-journal-dev', 'ddb-control-dev', 'ddb-sessions-dev'];

function synth(overrides: Record<string, unknown> = {}, role = RegionRole.PRIMARY) {
  const parts = regionalStack(role);
  Aspects.of(parts.stack).add(new DestroyableGuard());
  new RegionalBackup(parts.stack, 'Backup', {
    naming: parts.naming,
    peerRegion: parts.peerRegion,
    clusterIdentifier: parts.naming.name('dbCluster', Purpose.orders),
    tableNames: TABLES,
    config: parseConfig(overrides),
  });
  return { template: Template.fromStack(parts.stack), stack: parts.stack };
}

function only(template: Template, type: string): Record<string, any> {
  const found = Object.values(template.findResources(type));
  expect(found).toHaveLength(1);
  return found[0];
}

const guardErrors = (stack: import('aws-cdk-lib').Stack) => Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('DestroyableGuard'));

describe('regional backup, by default', () => {
  const { template, stack } = synth();

  it("keeps a vault encrypted with the stack's own key, both destroyed with the stack", () => {
    const vault = only(template, 'AWS::Backup::BackupVault');
    expect(vault.Properties.BackupVaultName).toBe('vault-backup-dev');
    expect(vault.Properties.EncryptionKeyArn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^BackupKey/), 'Arn'] });
    expect(vault.DeletionPolicy).toBe('Delete');
    expect(vault.Properties.LockConfiguration).toBeUndefined();
    const keys = template.findResources('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('vault-backup-dev') } });
    expect(Object.values(keys).map((key) => [key.DeletionPolicy, key.Properties.EnableKeyRotation])).toEqual([['Delete', true]]);
    expect(guardErrors(stack)).toEqual([]);
  });

  it("backs up every hour, keeps 35 days, and copies each recovery point to the other region's vault for 35 days", () => {
    const rule = only(template, 'AWS::Backup::BackupPlan').Properties.BackupPlan.BackupPlanRule;
    expect(rule).toHaveLength(1);
    expect(rule[0].ScheduleExpression).toBe('cron(0 * * * ? *)');
    expect(rule[0].Lifecycle).toEqual({ DeleteAfterDays: 35 });
    expect(rule[0].CopyActions).toEqual([
      {
        DestinationBackupVaultArn: 'arn:aws:backup:us-east-2:111111111111:backup-vault:vault-backup-dev',
        Lifecycle: { DeleteAfterDays: 35 },
      },
    ]);
  });

  it("selects this region's Aurora cluster and the journal, control and session tables", () => {
    const selection = only(template, 'AWS::Backup::BackupSelection').Properties.BackupSelection;
    const resources = JSON.stringify(selection.Resources);
    expect(resources).toContain(':rds:us-east-1:111111111111:cluster:aurora-orders-use1-dev');
    for (const table of TABLES) expect(resources).toContain(`:dynamodb:us-east-1:111111111111:table/${table}`);
    expect(selection.Resources).toHaveLength(4);
  });

  it('empties the vault before CloudFormation deletes it', () => {
    const cleaner = only(template, 'Custom::BackupVaultCleaner');
    expect(cleaner.Properties.VaultName).toBe('vault-backup-dev');
    const vaultId = Object.keys(template.findResources('AWS::Backup::BackupVault'))[0];
    expect(cleaner.DependsOn).toContain(vaultId);
  });

  it("turns on AWS Backup's advanced DynamoDB features (cross-region copies of tables need them)", () => {
    const setting = only(template, 'Custom::AdvancedDynamoDbBackup');
    expect(JSON.stringify(setting.Properties.Create)).toContain('\\"ResourceTypeManagementPreference\\":{\\"DynamoDB\\":true}');
  });

  it('copies the other way from the secondary', () => {
    const secondary = synth({}, RegionRole.SECONDARY).template;
    const rule = only(secondary, 'AWS::Backup::BackupPlan').Properties.BackupPlan.BackupPlanRule[0];
    expect(JSON.stringify(rule.CopyActions)).toContain(':backup:us-east-1:111111111111:backup-vault:vault-backup-dev');
  });
});

describe('regional backup, from config', () => {
  it('takes the frequency and the retentions from config', () => {
    const { template } = synth({ backupFrequencyHours: '4', backupRetentionDays: '7', backupCopyRetentionDays: '90' });
    const rule = only(template, 'AWS::Backup::BackupPlan').Properties.BackupPlan.BackupPlanRule[0];
    expect([rule.ScheduleExpression, rule.Lifecycle, rule.CopyActions[0].Lifecycle]).toEqual([
      'cron(0 */4 * * ? *)',
      { DeleteAfterDays: 7 },
      { DeleteAfterDays: 90 },
    ]);
  });

  it('keeps the vault and its key on teardown when asked, with no cleaner, and the guard permits exactly that', () => {
    const { template, stack } = synth({ keepBackupsOnTeardown: 'true' });
    expect(only(template, 'AWS::Backup::BackupVault').DeletionPolicy).toBe('Retain');
    const key = template.findResources('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('vault-backup-dev') } });
    expect(Object.values(key).map((each) => each.DeletionPolicy)).toEqual(['Retain']);
    template.resourceCountIs('Custom::BackupVaultCleaner', 0);
    expect(guardErrors(stack)).toEqual([]);
  });

  it('locks the vaults in governance mode, or in compliance mode after a three-day grace period', () => {
    const governance = only(
      synth({ keepBackupsOnTeardown: 'true', backupVaultLock: 'governance', backupCopyRetentionDays: '90' }).template,
      'AWS::Backup::BackupVault',
    );
    expect(governance.Properties.LockConfiguration).toEqual({ MinRetentionDays: 35, MaxRetentionDays: 90 });
    const compliance = only(synth({ keepBackupsOnTeardown: 'true', backupVaultLock: 'compliance' }).template, 'AWS::Backup::BackupVault');
    expect(compliance.Properties.LockConfiguration).toEqual({ MinRetentionDays: 35, ChangeableForDays: 3 });
  });
});

describe('the destroyability guard and vaults', () => {
  it('still refuses a retained vault that config did not ask to keep', () => {
    const { stack } = regionalStack(RegionRole.PRIMARY);
    Aspects.of(stack).add(new DestroyableGuard());
    new backup.BackupVault(stack, 'Stray', { backupVaultName: 'stray', removalPolicy: RemovalPolicy.RETAIN });
    // The guard's error annotations fail the synth that reads them.
    expect(() => Annotations.fromStack(stack)).toThrow(/DestroyableGuard: AWS::Backup::BackupVault has DeletionPolicy Retain/);
  });
});

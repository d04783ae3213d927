import { Match, Template } from 'aws-cdk-lib/assertions';
import { RegionRole } from '../../lib/core/region-settings';
import { Storage } from '../../lib/data/storage';
import { PeerBucketReplication } from '../../lib/data/storage-replication';
import { DEFAULT_CONFIG, regionalStack } from '../helpers/stacks';

const PEER_KEY = 'arn:aws:kms:us-east-1:111111111111:key/11111111-2222-3333-4444-555555555555';
const settings = { config: DEFAULT_CONFIG };

const primaryParts = regionalStack(RegionRole.PRIMARY);
new Storage(primaryParts.stack, 'Storage', { naming: primaryParts.naming, ...settings });
const primary = Template.fromStack(primaryParts.stack);

const secondaryParts = regionalStack(RegionRole.SECONDARY);
const secondaryStorage = new Storage(secondaryParts.stack, 'Storage', {
  naming: secondaryParts.naming,
  ...settings,
  replicateTo: { region: 'us-east-1', keyArn: PEER_KEY },
});
new PeerBucketReplication(secondaryParts.stack, 'PeerBucketReplication', {
  naming: secondaryParts.naming,
  peerRegion: 'us-east-1',
  keyArn: secondaryStorage.key.keyArn,
  peerKeyArn: PEER_KEY,
});
const secondary = Template.fromStack(secondaryParts.stack);

function bucket(template: Template, name: string): Record<string, any> {
  const found = template.findResources('AWS::S3::Bucket', { Properties: { BucketName: name } });
  expect(Object.keys(found)).toEqual([expect.any(String)]);
  return Object.values(found)[0];
}

describe('storage', () => {
  it.each(['s3-config-use1-111111111111-dev', 's3-audit-logs-use1-111111111111-dev'])(
    'makes %s versioned, KMS-encrypted, private, logged, destroyable',
    (name) => {
      const resource = bucket(primary, name);
      expect(resource.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(resource.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0]).toEqual({
        ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [expect.stringMatching(/^StorageKey/), 'Arn'] } },
        BucketKeyEnabled: true,
      });
      expect(resource.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(resource.Properties.LoggingConfiguration).toEqual({
        DestinationBucketName: { Ref: expect.stringMatching(/^StorageAccessLogs/) },
        LogFilePrefix: expect.any(String),
      });
      expect(resource.DeletionPolicy).toBe('Delete');
    },
  );

  it('refuses any request without TLS on every bucket', () => {
    const policies = Object.values(primary.findResources('AWS::S3::BucketPolicy'));
    expect(policies).toHaveLength(3);
    for (const policy of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      );
    }
  });

  it('expires noncurrent config versions, and archives then expires audit logs, from config', () => {
    expect(bucket(primary, 's3-config-use1-111111111111-dev').Properties.LifecycleConfiguration.Rules).toEqual([
      expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 30 }, Status: 'Enabled' }),
    ]);
    expect(bucket(primary, 's3-audit-logs-use1-111111111111-dev').Properties.LifecycleConfiguration.Rules).toEqual([
      expect.objectContaining({
        Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 90 }],
        ExpirationInDays: 2190,
        NoncurrentVersionExpiration: { NoncurrentDays: 30 },
      }),
    ]);
  });

  it('adds no replication rule in the primary, which deploys first', () => {
    expect(bucket(primary, 's3-config-use1-111111111111-dev').Properties.ReplicationConfiguration).toBeUndefined();
  });

  it.each([
    ['s3-config-use2-111111111111-dev', 's3-config-use1-111111111111-dev'],
    ['s3-audit-logs-use2-111111111111-dev', 's3-audit-logs-use1-111111111111-dev'],
  ])('replicates %s to %s with RTC, delete markers and the peer key', (source, destination) => {
    const rules = bucket(secondary, source).Properties.ReplicationConfiguration.Rules;
    expect(rules).toEqual([
      expect.objectContaining({
        Status: 'Enabled',
        DeleteMarkerReplication: { Status: 'Enabled' },
        SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
        Destination: {
          Bucket: `arn:aws:s3:::${destination}`,
          EncryptionConfiguration: { ReplicaKmsKeyID: PEER_KEY },
          ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } },
          Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } },
        },
      }),
    ]);
  });

  it("puts the reverse rule on the primary's buckets from the secondary stage, in us-east-1, and removes it on teardown", () => {
    const rules = Object.values(secondary.findResources('Custom::PeerBucketReplication'));
    expect(rules).toHaveLength(2);
    const calls = rules.map((rule) => JSON.stringify(rule.Properties.Create));
    expect(calls.some((call) => call.includes('s3-config-use1-111111111111-dev') && call.includes('arn:aws:s3:::s3-config-use2-111111111111-dev'))).toBe(true);
    expect(
      calls.some((call) => call.includes('s3-audit-logs-use1-111111111111-dev') && call.includes('arn:aws:s3:::s3-audit-logs-use2-111111111111-dev')),
    ).toBe(true);
    for (const call of calls) {
      expect(call).toMatch(/\\"region\\":\\"us-east-1\\"/);
      expect(call).toMatch(/\\"ReplicationTime\\":\{\\"Status\\":\\"Enabled\\"/);
      expect(call).toMatch(/\\"DeleteMarkerReplication\\":\{\\"Status\\":\\"Enabled\\"\}/);
    }
    for (const rule of rules) {
      expect(JSON.stringify(rule.Properties.Delete)).toMatch(/deleteBucketReplication/);
    }
  });

  it('gives each replication role only what replication needs, on these buckets and keys', () => {
    for (const roleName of ['role-replication-use2-dev', 'role-replication-use1-dev']) {
      const roles = secondary.findResources('AWS::IAM::Role', { Properties: { RoleName: roleName } });
      const [logicalId] = Object.keys(roles);
      expect(roles[logicalId].Properties.AssumeRolePolicyDocument.Statement).toEqual([expect.objectContaining({ Principal: { Service: 's3.amazonaws.com' } })]);
      const policies = Object.values(secondary.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: logicalId }] } }));
      const actions = policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement.flatMap((statement: any) => [statement.Action].flat()));
      expect(actions.sort()).toEqual(
        [
          's3:GetReplicationConfiguration',
          's3:ListBucket',
          's3:GetObjectVersionForReplication',
          's3:GetObjectVersionAcl',
          's3:GetObjectVersionTagging',
          's3:ReplicateObject',
          's3:ReplicateDelete',
          's3:ReplicateTags',
          'kms:Decrypt',
          'kms:Encrypt',
          'kms:GenerateDataKey',
        ].sort(),
      );
      const resources = JSON.stringify(policies.map((policy) => policy.Properties.PolicyDocument.Statement.map((statement: any) => statement.Resource)));
      expect(resources).not.toMatch(/"\*"/);
    }
    secondary.hasResourceProperties('AWS::IAM::Role', { RoleName: 'role-replication-use2-dev', ManagedPolicyArns: Match.absent() });
  });
});

import { Match, Template } from 'aws-cdk-lib/assertions';
import { RegionRole } from '../../lib/core/region-settings';
import { GlobalDatabase } from '../../lib/data/global-database';
import { DEFAULT_CONFIG, regionalStack } from '../helpers/stacks';

function databaseTemplate(role: RegionRole, config = DEFAULT_CONFIG): Template {
  const { stack, naming, network, peerRegion, cidr, peerCidr } = regionalStack(role);
  new GlobalDatabase(stack, 'Database', {
    naming,
    role,
    peerRegion,
    vpc: network.vpc,
    vpcCidr: cidr,
    peerVpcCidr: peerCidr,
    config,
  });
  return Template.fromStack(stack);
}

const primary = databaseTemplate(RegionRole.PRIMARY);
const secondary = databaseTemplate(RegionRole.SECONDARY);

describe('global database', () => {
  it('creates the global cluster in the primary only, Aurora PostgreSQL, encrypted, destroyable', () => {
    primary.hasResource('AWS::RDS::GlobalCluster', {
      Properties: {
        GlobalClusterIdentifier: 'aurora-global-orders-dev',
        Engine: 'aurora-postgresql',
        EngineVersion: '17.9',
        StorageEncrypted: true,
        DeletionProtection: false,
      },
      DeletionPolicy: 'Delete',
    });
    secondary.resourceCountIs('AWS::RDS::GlobalCluster', 0);
  });

  it("joins each region's cluster to the global cluster by its identifier", () => {
    primary.hasResourceProperties('AWS::RDS::DBCluster', {
      DBClusterIdentifier: 'aurora-orders-use1-dev',
      GlobalClusterIdentifier: 'aurora-global-orders-dev',
    });
    secondary.hasResourceProperties('AWS::RDS::DBCluster', {
      DBClusterIdentifier: 'aurora-orders-use2-dev',
      GlobalClusterIdentifier: 'aurora-global-orders-dev',
    });
  });

  it('gives only the primary cluster credentials and the database', () => {
    primary.hasResourceProperties('AWS::RDS::DBCluster', { MasterUsername: Match.anyValue(), MasterUserPassword: Match.anyValue(), DatabaseName: 'trading' });
    secondary.hasResourceProperties('AWS::RDS::DBCluster', {
      MasterUsername: Match.absent(),
      MasterUserPassword: Match.absent(),
      DatabaseName: Match.absent(),
    });
  });

  it.each([
    ['primary', primary],
    ['secondary', secondary],
  ])('secures the %s cluster: own KMS key, IAM auth, log export, no deletion protection, deleted with the stack', (_role, template) => {
    template.hasResource('AWS::RDS::DBCluster', {
      Properties: {
        StorageEncrypted: true,
        KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('DatabaseKey'), 'Arn'] },
        EnableIAMDatabaseAuthentication: true,
        EnableCloudwatchLogsExports: ['postgresql'],
        DeletionProtection: false,
      },
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('runs a writer and the configured readers, with Performance Insights, in private subnets', () => {
    primary.resourceCountIs('AWS::RDS::DBInstance', 2);
    primary.allResourcesProperties('AWS::RDS::DBInstance', {
      EnablePerformanceInsights: true,
      PerformanceInsightsKMSKeyId: Match.anyValue(),
      PubliclyAccessible: false,
      DBInstanceClass: 'db.r6g.large',
    });
    primary.hasResourceProperties('AWS::RDS::DBSubnetGroup', { SubnetIds: Match.arrayWith([{ Ref: Match.stringLikeRegexp('NetworkVpcdataSubnet1') }]) });
  });

  it('sets the managed RPO and forces TLS in the cluster parameter group', () => {
    primary.hasResourceProperties('AWS::RDS::DBClusterParameterGroup', {
      Family: 'aurora-postgresql17',
      Parameters: { 'rds.force_ssl': '1' },
    });
  });

  it('admits the database port only from the client group and the peer VPC', () => {
    const groups = primary.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupName: 'sg-database-use1-dev' } });
    const [logicalId] = Object.keys(groups);
    const ingress = primary.findResources('AWS::EC2::SecurityGroupIngress', { Properties: { GroupId: { 'Fn::GetAtt': [logicalId, 'GroupId'] } } });
    const sources = Object.values(ingress).map((rule) => rule.Properties.SourceSecurityGroupId ?? rule.Properties.CidrIp);
    expect(sources).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/DatabaseClientSecurityGroup/), 'GroupId'] }]);
    const inline = groups[logicalId].Properties.SecurityGroupIngress;
    expect(inline).toEqual([expect.objectContaining({ CidrIp: '10.20.0.0/16', FromPort: 5432, ToPort: 5432 })]);
  });

  it('keeps the secret in the primary, replicated to the secondary, rotated', () => {
    primary.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'secret-database-dev', ReplicaRegions: [{ Region: 'us-east-2' }] });
    primary.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      HostedRotationLambda: Match.objectLike({ RotationType: 'PostgreSQLSingleUser' }),
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
    });
    secondary.resourceCountIs('AWS::SecretsManager::Secret', 0);
  });

  it('creates the PostgreSQL log group itself, so it has a retention and goes with the stack', () => {
    primary.hasResource('AWS::Logs::LogGroup', {
      Properties: { LogGroupName: '/aws/rds/cluster/aurora-orders-use1-dev/postgresql', RetentionInDays: 30 },
      DeletionPolicy: 'Delete',
    });
  });

  it('monitors every instance at the configured interval through its own role, and not at all with 0', () => {
    primary.allResourcesProperties('AWS::RDS::DBInstance', {
      MonitoringInterval: 60,
      MonitoringRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DatabaseMonitoringRole'), 'Arn'] },
    });
    primary.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'role-db-monitoring-use1-dev',
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'monitoring.rds.amazonaws.com' } })] },
    });
    const off = databaseTemplate(RegionRole.PRIMARY, { ...DEFAULT_CONFIG, databaseMonitoringIntervalSeconds: 0 });
    off.allResourcesProperties('AWS::RDS::DBInstance', { MonitoringInterval: Match.absent(), MonitoringRoleArn: Match.absent() });
    expect(Object.keys(off.findResources('AWS::IAM::Role', { Properties: { RoleName: 'role-db-monitoring-use1-dev' } }))).toEqual([]);
  });
});

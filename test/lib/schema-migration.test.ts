import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { RegionRole } from '../../lib/core/region-settings';
import { GlobalDatabase } from '../../lib/data/global-database';
import { migrationFilesChecksum, SchemaMigration } from '../../lib/data/schema-migration';
import { DEFAULT_CONFIG, regionalStack } from '../helpers/stacks';

const { stack, naming, network, peerRegion, cidr, peerCidr } = regionalStack(RegionRole.PRIMARY);
const database = new GlobalDatabase(stack, 'Database', {
  naming,
  role: RegionRole.PRIMARY,
  peerRegion,
  vpc: network.vpc,
  vpcCidr: cidr,
  peerVpcCidr: peerCidr,
  config: DEFAULT_CONFIG,
});
new SchemaMigration(stack, 'SchemaMigration', { naming, database, logRetention: DEFAULT_CONFIG.logRetentionDays, sourceMaps: false, applies: true });
const template = Template.fromStack(stack);

describe('schema migration', () => {
  it('runs the migration function on the newest Node.js, on arm64, inside the VPC with the database client group', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'fn-migration-use1-dev',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      VpcConfig: { SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('DatabaseClientSecurityGroup'), 'GroupId'] }], SubnetIds: Match.anyValue() },
      Environment: { Variables: Match.objectLike({ NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem' }) },
    });
  });

  it('passes the writer endpoint, the secret and the migrations checksum, after the writer instance exists', () => {
    const resources = template.findResources('Custom::SchemaMigration');
    const [migration] = Object.values(resources);
    expect(migration.Properties).toMatchObject({
      Host: { 'Fn::GetAtt': [expect.stringMatching(/^DatabaseCluster/), 'Endpoint.Address'] },
      Port: '5432',
      Database: 'trading',
      SecretArn: { Ref: expect.stringMatching(/^DatabaseSecret/) },
      MigrationSetChecksum: migrationFilesChecksum(),
    });
    expect(migration.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^DatabaseInstance1/)]));
  });

  it('lets the function read the secret and nothing it does not need', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
      /SchemaMigrationHandlerRole/.test(JSON.stringify(policy.Properties.Roles)),
    );
    const actions = policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement.flatMap((statement: any) => [statement.Action].flat()));
    expect(actions).toEqual(expect.arrayContaining(['secretsmanager:GetSecretValue', 'logs:PutLogEvents', 'ec2:CreateNetworkInterface']));
    expect(
      actions.filter(
        (action: string) => !/^(secretsmanager:(GetSecretValue|DescribeSecret)|kms:Decrypt|logs:(CreateLogStream|PutLogEvents)|ec2:)/.test(action),
      ),
    ).toEqual([]);
    expect(actions).not.toContain('xray:PutTraceSegments');
  });

  it('changes the checksum when a migration is added or edited, so the deploy applies it', () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
    fs.writeFileSync(path.join(directory, '0001_a.sql'), 'CREATE TABLE a (id int);');
    const first = migrationFilesChecksum(directory);
    fs.writeFileSync(path.join(directory, '0001_a.sql'), 'CREATE TABLE a (id bigint);');
    const edited = migrationFilesChecksum(directory);
    fs.writeFileSync(path.join(directory, '0002_b.sql'), 'CREATE TABLE b (id int);');
    const added = migrationFilesChecksum(directory);
    expect(new Set([first, edited, added]).size).toBe(3);
    expect(migrationFilesChecksum(directory)).toBe(added);
  });
});

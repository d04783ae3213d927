import { Match, Template } from 'aws-cdk-lib/assertions';
import { Purpose, ParameterKey } from '../../lib/core/naming';
import { namingFor, synthDeployment } from '../helpers/app';
import { fisTraces } from '../helpers/fis-traces';

// One synthesized app for the file: synthesis is the slow part.
const synthesized = synthDeployment();
const { config, deployment } = synthesized;
const primary = Template.fromStack(deployment.primary.regionalStack);
const secondary = Template.fromStack(deployment.secondary.regionalStack);
const primaryNaming = namingFor(config, 'us-east-1');
const secondaryNaming = namingFor(config, 'us-east-2');

/** Every statement of every IAM policy in a template, flattened. */
function statementsOf(template: Template): Array<Record<string, any>> {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (policy) => policy.Properties.PolicyDocument.Statement as Array<Record<string, any>>,
  );
}

describe('network', () => {
  it.each([
    ['primary', primary, '10.10.0.0/16'],
    ['secondary', secondary, '10.20.0.0/16'],
  ])('gives the %s region a VPC with its configured CIDR', (_role, template, cidr) => {
    template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: cidr });
  });

  it('has private isolated subnets only: no internet gateway, no NAT, no public IPs', () => {
    for (const template of [primary, secondary]) {
      template.resourceCountIs('AWS::EC2::InternetGateway', 0);
      template.resourceCountIs('AWS::EC2::NatGateway', 0);
      template.resourceCountIs('AWS::EC2::Subnet', 6);
      template.allResourcesProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false });
    }
  });

  it('puts subnets in the configured zones, without looking them up', () => {
    for (const zone of config.primaryAvailabilityZones) {
      primary.hasResourceProperties('AWS::EC2::Subnet', { AvailabilityZone: zone });
    }
    for (const zone of config.secondaryAvailabilityZones) {
      secondary.hasResourceProperties('AWS::EC2::Subnet', { AvailabilityZone: zone });
    }
    // A context lookup would be recorded as 'missing' and make the CLI call the account.
    for (const nested of synthesized.assembly.nestedAssemblies) {
      expect(nested.nestedAssembly.manifest.missing ?? []).toEqual([]);
    }
    expect(synthesized.assembly.manifest.missing ?? []).toEqual([]);
  });

  it('reaches DynamoDB and S3 through gateway endpoints and every other API through interface endpoints', () => {
    primary.resourceCountIs('AWS::EC2::VPCEndpoint', 13);
    primary.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway', ServiceName: Match.objectLike({}) });
    for (const service of ['secretsmanager', 'ssm', 'sqs', 'sns', 'monitoring', 'logs', 'states', 'kms', 'events', 'sts', 'rds']) {
      primary.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Interface',
        ServiceName: `com.amazonaws.us-east-1.${service}`,
        PrivateDnsEnabled: true,
      });
    }
  });

  it('admits only HTTPS from the VPC to the interface endpoints', () => {
    primary.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupName: primaryNaming.name('securityGroup', Purpose.endpoints),
      SecurityGroupIngress: [{ CidrIp: '10.10.0.0/16', FromPort: 443, ToPort: 443, IpProtocol: 'tcp', Description: Match.anyValue() }],
    });
  });

  it('logs all traffic to a destroyable log group with the configured retention', () => {
    primary.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL', ResourceType: 'VPC' });
    primary.hasResource('AWS::Logs::LogGroup', {
      Properties: { LogGroupName: `/vpc/${primaryNaming.name('logGroup', Purpose.flowLogs)}`, RetentionInDays: config.flowLogRetentionDays },
      DeletionPolicy: 'Delete',
    });
  });
});

describe('parameters', () => {
  it.each([
    ['primary', primary, primaryNaming, 'us-east-2'],
    ['secondary', secondary, secondaryNaming, 'us-east-1'],
  ])("publishes the %s region's role, peer and network under /{app}/{suffix}", (role, template, naming, peer) => {
    template.hasResourceProperties('AWS::SSM::Parameter', { Name: naming.parameterName(ParameterKey.regionRole), Value: role });
    template.hasResourceProperties('AWS::SSM::Parameter', { Name: naming.parameterName(ParameterKey.peerRegion), Value: peer });
    template.hasResourceProperties('AWS::SSM::Parameter', { Name: '/trading-dr/dev/network/vpc-id', Value: Match.objectLike({ Ref: Match.anyValue() }) });
    template.hasResourceProperties('AWS::SSM::Parameter', {
      Name: '/trading-dr/dev/network/route-table-ids',
      Value: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
    });
  });
});

describe('vpc peering', () => {
  it('is requested by the secondary stage only, to the primary VPC read from SSM in us-east-1', () => {
    primary.resourceCountIs('AWS::EC2::VPCPeeringConnection', 0);
    secondary.resourceCountIs('AWS::EC2::VPCPeeringConnection', 1);
    secondary.hasResourceProperties('AWS::EC2::VPCPeeringConnection', {
      PeerRegion: 'us-east-1',
      PeerOwnerId: config.account,
      PeerVpcId: { 'Fn::GetAtt': [Match.stringLikeRegexp('PeeringPeerVpcId'), 'Parameter.Value'] },
    });
    secondary.hasResourceProperties('Custom::PeerParameter', {
      Create: Match.serializedJson(
        Match.objectLike({ service: 'SSM', action: 'getParameter', region: 'us-east-1', parameters: { Name: '/trading-dr/dev/network/vpc-id' } }),
      ),
    });
  });

  it('routes every secondary subnet to the primary CIDR over the peering', () => {
    const routes = secondary.findResources('AWS::EC2::Route', { Properties: { DestinationCidrBlock: '10.10.0.0/16' } });
    expect(Object.keys(routes)).toHaveLength(6);
    for (const route of Object.values(routes)) {
      expect(route.Properties.VpcPeeringConnectionId).toEqual({ Ref: expect.stringMatching(/^PeeringConnection/) });
    }
  });

  it("adds the return route in each of the primary's route tables, in us-east-1, and removes it on teardown", () => {
    const returnRoutes = secondary.findResources('Custom::PeerRoute');
    expect(Object.keys(returnRoutes)).toHaveLength(6);
    for (const returnRoute of Object.values(returnRoutes)) {
      const create = JSON.stringify(returnRoute.Properties.Create);
      expect(create).toMatch(/\\"action\\":\\"createRoute\\"/);
      expect(create).toMatch(/\\"region\\":\\"us-east-1\\"/);
      expect(create).toMatch(/\\"DestinationCidrBlock\\":\\"10\.20\.0\.0\/16\\"/);
      const teardown = JSON.stringify(returnRoute.Properties.Delete);
      expect(teardown).toMatch(/\\"action\\":\\"deleteRoute\\"/);
      expect(teardown).toMatch(/\\"region\\":\\"us-east-1\\"/);
      expect(teardown).toMatch(/\\"ignoreErrorCodesMatching\\":\\"InvalidRoute/);
    }
  });

  it("lets the deploy-time calls touch only the primary's route tables and parameters", () => {
    // Not the switch keeper's run-time read of the switch this region hosts, in this region.
    const ownSwitch = `parameter${secondaryNaming.parameterName(ParameterKey.evacuationSwitch)}`;
    const statements = statementsOf(secondary).filter(
      (statement) =>
        [statement.Action].flat().some((action: string) => /^ec2:(Create|Replace|Delete)Route$|^ssm:GetParameter$/.test(action)) &&
        !JSON.stringify(statement.Resource).includes(ownSwitch),
    );
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      const resource = JSON.stringify(statement.Resource);
      expect(resource).toMatch(/us-east-1/);
      expect(resource).toMatch(/route-table\/|parameter\/trading-dr\/dev\//);
    }
  });

  it('runs deploy-time calls under a role without managed policies and a destroyable log group', () => {
    secondary.hasResourceProperties('AWS::IAM::Role', { RoleName: secondaryNaming.name('role', Purpose.awsCalls), ManagedPolicyArns: Match.absent() });
    secondary.hasResource('AWS::Logs::LogGroup', {
      Properties: { LogGroupName: `/aws/lambda/${secondaryNaming.name('logGroup', Purpose.awsCalls)}` },
      DeletionPolicy: 'Delete',
    });
  });
});

describe('cross-region access', () => {
  it('names the roles with their region so the two stages never collide', () => {
    primary.hasResourceProperties('AWS::IAM::Role', { RoleName: 'role-orchestrator-use1-dev' });
    secondary.hasResourceProperties('AWS::IAM::Role', { RoleName: 'role-orchestrator-use2-dev' });
    primary.hasResourceProperties('AWS::IAM::Role', { RoleName: 'role-readiness-use1-dev' });
  });

  it("scopes the orchestrator to this deployment's control table, global cluster and clusters in both regions, without promoting rights", () => {
    const statements = statementsOf(primary);
    const fence = statements.find((statement) => statement.Sid === 'FenceControlTable')!;
    expect(fence.Resource).toEqual([
      expect.stringMatching(/:dynamodb:us-east-1:111111111111:table\/ddb-control-dev$/),
      expect.stringMatching(/:dynamodb:us-east-2:111111111111:table\/ddb-control-dev$/),
    ]);
    // The state machine only watches the promotion; the steps function requests it.
    const promote = statements.find((statement) => statement.Sid === 'ReadGlobalDatabase')!;
    expect(promote.Action).toBe('rds:DescribeGlobalClusters');
    expect(promote.Resource).toEqual([
      expect.stringMatching(/:rds::111111111111:global-cluster:aurora-global-orders-dev$/),
      expect.stringMatching(/:rds:us-east-1:111111111111:cluster:aurora-orders-use1-dev$/),
      expect.stringMatching(/:rds:us-east-2:111111111111:cluster:aurora-orders-use2-dev$/),
    ]);
  });

  it('allows a wildcard resource only where AWS offers no resource scope, and says why', () => {
    for (const statement of [...statementsOf(primary), ...statementsOf(secondary)]) {
      if (![statement.Resource].flat().includes('*')) continue;
      const actions = [statement.Action].flat() as string[];
      // Network interfaces of VPC functions, X-Ray trace writes: no resource-level scope exists.
      // Step Functions' log delivery and X-Ray sampling, and reading metrics: the same.
      if (
        actions.every((action) =>
          /^ec2:(Create|Describe|Delete)NetworkInterfaces?$|^ec2:DescribeSubnets$|^ec2:(Assign|Unassign)PrivateIpAddresses$|^xray:(Put(TraceSegments|TelemetryRecords)|GetSampling(Rules|Targets))$|^logs:(Create|Delete|Get|Update|List)LogDeliver(y|ies)$|^logs:Describe(LogGroups|ResourcePolicies)$|^logs:PutResourcePolicy$|^cloudwatch:GetMetricStatistics$/.test(
            action,
          ),
        )
      ) {
        continue;
      }
      // AWS Backup's region settings are the account's; a recovery point's ARN is not known in advance, so the vault scopes it.
      if (statement.Action === 'backup:UpdateRegionSettings') continue;
      if (statement.Action === 'backup:DeleteRecoveryPoint') {
        expect(statement.Condition).toEqual({ StringEquals: { 'backup:BackupVaultName': 'vault-backup-dev' } });
        continue;
      }
      expect(statement.Action).toBe('cloudwatch:PutMetricData');
      expect(statement.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': 'trading-dr/dev' } });
    }
  });

  it('grants no Route 53 change to any role: failover never edits records', () => {
    for (const statement of [...statementsOf(primary), ...statementsOf(secondary)]) {
      for (const action of [statement.Action].flat() as string[]) {
        expect(action).not.toMatch(/^route53:(Change|Create|Delete|Update)|^route53:\*|^\*$/);
      }
    }
  });
});

describe('logging', () => {
  it("sends every function's logs to a log group the stack owns, with a retention, destroyed with it", () => {
    for (const template of [primary, secondary]) {
      const groups = template.findResources('AWS::Logs::LogGroup');
      const functions = Object.entries(template.findResources('AWS::Lambda::Function'));
      expect(functions.length).toBeGreaterThan(8);
      for (const [id, fn] of functions) {
        const groupRef = fn.Properties.LoggingConfig?.LogGroup?.Ref as string | undefined;
        expect({ id, ownedGroup: groupRef !== undefined && groupRef in groups }).toEqual({ id, ownedGroup: true });
        expect({ id, retention: groups[groupRef!].Properties.RetentionInDays, deletion: groups[groupRef!].DeletionPolicy }).toEqual({
          id,
          retention: expect.any(Number),
          deletion: 'Delete',
        });
      }
    }
  });
});

describe('fault injection, with the default config', () => {
  // test/lib/fault-injection.test.ts shows the same check finds every trace where the drills are on.
  it('deploys none of it anywhere', () => {
    expect(config.faultInjectionDrills).toBe(false);
    expect(synthesized.templates.size).toBeGreaterThanOrEqual(2);
    for (const [stack, template] of synthesized.templates) {
      const region = stack.includes('use2') ? config.secondaryRegion : config.primaryRegion;
      expect({ stack, traces: fisTraces(template, namingFor(config, region)) }).toEqual({ stack, traces: [] });
    }
  });
});

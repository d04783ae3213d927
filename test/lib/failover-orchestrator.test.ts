import { Template } from 'aws-cdk-lib/assertions';
import { namingFor, synthDeployment } from '../helpers/app';

// One synthesized app, with non-default failover settings so values are shown to come from config.
const { deployment, config } = synthDeployment({ probeFailureThreshold: 4, probeIntervalSeconds: 15, autoFailback: 'false', failbackAfterHealthySeconds: 1200, promotionPollSeconds: 20, promotionTimeoutSeconds: 600 });
const stacks = { primary: deployment.primary.regionalStack, secondary: deployment.secondary.regionalStack };
const templates = { primary: Template.fromStack(stacks.primary), secondary: Template.fromStack(stacks.secondary) };
const regions = { primary: 'us-east-1', secondary: 'us-east-2' } as const;

/** The state machine's definition with references shown as `${...}`, parsed. */
function definitionOf(template: Template): Record<string, any> {
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const parts = machine.Properties.DefinitionString['Fn::Join'][1] as unknown[];
  return JSON.parse(parts.map((part) => (typeof part === 'string' ? part : '${ref}')).join(''));
}

/** Every statement of the policies attached to a role, found by role name. */
function statementsOfRole(template: Template, roleName: string): Array<Record<string, any>> {
  const roles = template.findResources('AWS::IAM::Role', { Properties: { RoleName: roleName } });
  const [roleId] = Object.keys(roles);
  expect(roleId).toBeDefined();
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(`"${roleId}"`))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Array<Record<string, any>>);
}

describe.each(['primary', 'secondary'] as const)('the failover state machine in the %s region', (role) => {
  const template = templates[role];
  const region = regions[role];
  const naming = namingFor(config, region);
  const definition = definitionOf(template);

  it('exists, named for its region, run by the orchestrator role, logging every execution to a destroyable log group', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: naming.name('stateMachine', 'failover'),
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
    });
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    const [roleId] = Object.keys(template.findResources('AWS::IAM::Role', { Properties: { RoleName: naming.name('role', 'orchestrator') } }));
    expect(machine.Properties.RoleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    template.hasResource('AWS::Logs::LogGroup', { Properties: { LogGroupName: `/aws/vendedlogs/states/${naming.name('stateMachine', 'failover')}` }, DeletionPolicy: 'Delete' });
  });

  it('promotes its own cluster: switchover when planned, failover allowing data loss otherwise', () => {
    const ownCluster = `arn:aws:rds:${region}:111111111111:cluster:${naming.name('dbCluster', 'orders')}`;
    expect(definition.States['Promote: switchover'].Parameters).toEqual({ GlobalClusterIdentifier: 'aurora-global-orders-dev', TargetDbClusterIdentifier: ownCluster });
    expect(definition.States['Promote: failover allowing data loss'].Parameters).toEqual({ GlobalClusterIdentifier: 'aurora-global-orders-dev', TargetDbClusterIdentifier: ownCluster, AllowDataLoss: true });
    expect(definition.States['Promote: already writer?'].Choices[1]).toEqual({ Variable: '$.mode', StringEquals: 'planned', Next: 'Promote: switchover' });
  });

  it('polls the promotion at the configured interval until the configured timeout', () => {
    expect(definition.States['Promote: wait'].Seconds).toBe(20);
    expect(JSON.stringify(definition.States['Promote: writer yet?'].Choices)).toContain('"NumericGreaterThanEquals":30');
  });

  it('retries every AWS call with exponential backoff and full jitter, and gives every task a timeout', () => {
    for (const [name, state] of Object.entries(definition.States as Record<string, any>)) {
      if (state.Type !== 'Task') continue;
      expect({ name, timeout: state.TimeoutSeconds ?? state.TimeoutSecondsPath }).toEqual({ name, timeout: expect.anything() });
      const retries = (state.Retry ?? []).filter((retry: any) => retry.MaxAttempts !== 0);
      // Notifications after the fact and the step functions' own retries aside, every task retries.
      if (retries.length === 0) continue;
      for (const retry of retries) expect({ name, backoff: retry.BackoffRate, jitter: retry.JitterStrategy }).toEqual({ name, backoff: 2, jitter: 'FULL' });
    }
    const fence = definition.States['Fence: set active region'];
    expect(fence.Retry[0]).toEqual({ ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], MaxAttempts: 0 });
  });

  it('fences with a conditional write of the active region and the next epoch, and drains the other region', () => {
    const fence = definition.States['Fence: set active region'].Parameters;
    expect(fence.ConditionExpression).toBe('attribute_not_exists(#epoch) OR #epoch = :observed');
    expect(fence.ExpressionAttributeValues[':region']).toEqual({ S: region });
    expect(fence.ExpressionAttributeValues[':drained']).toEqual({ SS: [role === 'primary' ? 'us-east-2' : 'us-east-1'] });
  });

  it('throws the other region\'s evacuation switch in its own region, by the metric that switch\'s alarm watches', () => {
    const peerRegion = role === 'primary' ? 'us-east-2' : 'us-east-1';
    expect(definition.States['Fence: evacuate peer region']).toEqual(
      expect.objectContaining({
        Resource: 'arn:aws:states:::aws-sdk:cloudwatch:putMetricData',
        Parameters: { Namespace: 'trading-dr/dev', MetricData: [{ MetricName: 'EvacuateRegion', Dimensions: [{ Name: 'Region', Value: peerRegion }], Value: 1, Unit: 'Count' }] },
      }),
    );
  });

  it('lets its role act only on this deployment\'s resources, and on no Route 53 record or health check', () => {
    const statements = statementsOfRole(template, naming.name('role', 'orchestrator'));
    expect(statements.length).toBeGreaterThan(5);
    for (const statement of statements) {
      for (const action of [statement.Action].flat() as string[]) expect(action).not.toMatch(/^route53|^\*$|:\*$/);
      for (const resource of [statement.Resource].flat()) {
        if (resource === '*') {
          const actions = [statement.Action].flat() as string[];
          // Log delivery and X-Ray (added by Step Functions' logging and tracing) have no resource scope.
          if (actions.every((action) => /^logs:(Create|Delete|Get|Update|List)LogDeliver(y|ies)$|^logs:Describe(LogGroups|ResourcePolicies)$|^logs:PutResourcePolicy$|^xray:/.test(action))) continue;
          expect(statement.Action).toBe('cloudwatch:PutMetricData');
          expect(statement.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': 'trading-dr/dev' } });
          continue;
        }
        // Names carry the suffix (parameters live under /trading-dr/dev/); references are this stack's own resources.
        const text = JSON.stringify(resource);
        expect({ resource: text, scoped: /-dev\b|\/trading-dr\/dev\/|"(Ref|Fn::GetAtt)"/.test(text) }).toEqual({ resource: text, scoped: true });
      }
    }
  });

  it('lets the step function place canary orders on its own API only, and read its own executions only', () => {
    const statements = statementsOfRole(template, naming.name('role', 'failover-steps'));
    const canary = statements.find((statement) => statement.Sid === 'PlaceCanaryOrders')!;
    expect(JSON.stringify(canary.Resource)).toContain('/v1/POST/orders');
    expect(JSON.stringify(canary.Resource)).toContain('/v1/GET/orders/*');
    const history = statements.find((statement) => statement.Sid === 'ReadOwnExecutionHistory')!;
    expect(JSON.stringify(history.Resource)).toContain(`execution:${naming.name('stateMachine', 'failover')}:*`);
  });
});

describe('the prober', () => {
  it('runs in the secondary region only', () => {
    templates.primary.resourcePropertiesCountIs('AWS::Lambda::Function', { FunctionName: namingFor(config, 'us-east-1').name('function', 'prober') }, 0);
    templates.secondary.resourcePropertiesCountIs('AWS::Lambda::Function', { FunctionName: namingFor(config, 'us-east-2').name('function', 'prober') }, 1);
  });

  it('runs every minute with the configured interval, threshold and failback settings', () => {
    templates.secondary.hasResourceProperties('AWS::Events::Rule', { Name: namingFor(config, 'us-east-2').name('rule', 'prober'), ScheduleExpression: 'rate(1 minute)' });
    const [prober] = Object.values(templates.secondary.findResources('AWS::Lambda::Function', { Properties: { FunctionName: 'fn-prober-use2-dev' } }));
    expect(prober.Properties.Environment.Variables).toEqual(
      expect.objectContaining({ FAILURE_THRESHOLD: '4', PROBE_INTERVAL_SECONDS: '15', AUTO_FAILBACK: 'false', FAILBACK_AFTER_HEALTHY_SECONDS: '1200', PEER_REGION: 'us-east-1' }),
    );
    expect(prober.Properties.Timeout).toBeLessThan(60);
  });

  it('may start only the two failover state machines of this deployment', () => {
    const statements = statementsOfRole(templates.secondary, namingFor(config, 'us-east-2').name('role', 'prober'));
    const starts = statements.filter((statement) => [statement.Action].flat().includes('states:StartExecution'));
    expect(JSON.stringify(starts.map((statement) => statement.Resource))).toMatch(/stateMachine:sfn-failover-use1-dev/);
    expect(starts).toHaveLength(2);
  });
});

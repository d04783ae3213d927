import { Template } from 'aws-cdk-lib/assertions';
import { ControlTableSchema } from '../../lambda/contracts/tables';
import { Purpose } from '../../lib/core/naming';
import { namingFor, synthDeployment } from '../helpers/app';

// One synthesized app, with non-default failover settings so values are shown to come from config.
const { deployment, config } = synthDeployment({
  probeFailureThreshold: 4,
  probeIntervalSeconds: 15,
  probeMinimumOutageSeconds: 45,
  probeRestartAfterSeconds: 600,
  autoFailback: 'false',
  failbackAfterHealthySeconds: 1200,
  promotionPollSeconds: 20,
  promotionTimeoutSeconds: 600,
  requireDataLossApproval: 'true',
  dataLossApprovalTimeoutSeconds: 900,
});
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
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { LogGroupName: `/aws/vendedlogs/states/${naming.name('stateMachine', 'failover')}` },
      DeletionPolicy: 'Delete',
    });
  });

  it("promotes through the steps function (which sends a switchover to the primary's region), asking approval first when a failover would lose data", () => {
    expect(definition.States['Promote: request'].Parameters).toEqual({ action: 'promote', 'kind.$': '$.preflight.promotion.kind' });
    expect(definition.States['Promote: already writer?'].Choices[1]).toEqual({
      Variable: '$.preflight.approvalRequired',
      BooleanEquals: true,
      Next: 'Promote: wait for approval',
    });
    const approval = definition.States['Promote: wait for approval'];
    expect(approval.Resource).toBe('arn:${ref}:states:::sns:publish.waitForTaskToken');
    expect(approval.TimeoutSeconds).toBe(900);
    expect(JSON.stringify(approval.Parameters)).toContain('send-task-success');
    expect(JSON.stringify(approval.Parameters)).toContain('send-task-failure');
    const [steps] = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { FunctionName: naming.name('function', 'failover-steps') } }));
    expect(steps.Properties.Environment.Variables).toEqual(
      expect.objectContaining({
        REQUIRE_DATA_LOSS_APPROVAL: 'true',
        GLOBAL_CLUSTER_ID: 'aurora-global-orders-dev',
        SWITCH_PARAMETER: '/trading-dr/dev/dns/evacuation-switch',
      }),
    );
    const promote = statementsOfRole(template, naming.name('role', 'failover-steps')).find((statement) => statement.Sid === 'PromoteGlobalDatabase')!;
    expect([...promote.Action].sort()).toEqual(['rds:DescribeGlobalClusters', 'rds:FailoverGlobalCluster', 'rds:SwitchoverGlobalCluster']);
    expect(JSON.stringify(promote.Resource)).toContain('cluster:aurora-orders-use1-dev');
    expect(JSON.stringify(promote.Resource)).toContain('cluster:aurora-orders-use2-dev');
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

  it('fences with a conditional write of the active region and the next epoch that accepts its own earlier write, and the roles preflight computed', () => {
    const fence = definition.States['Fence: set active region'].Parameters;
    expect(fence.ConditionExpression).toBe('attribute_not_exists(#epoch) OR #epoch = :observed OR (#epoch = :next AND fencedBy = :holder)');
    expect(fence.ExpressionAttributeValues[':region']).toEqual({ S: region });
    expect(fence.ExpressionAttributeValues[':drained']).toEqual({ 'L.$': '$.preflight.roles.drainedList' });
    const lock = definition.States['Preflight: acquire lock'].Parameters;
    expect(lock.ConditionExpression).toBe('attribute_not_exists(holder) OR expiresAt < :now OR holder = :holder');
    expect(definition.States['Rollback: restore active region'].Parameters.ConditionExpression).toBe('#epoch = :fenced AND fencedBy = :holder');
  });

  it('sets both evacuation switches for its own region being active, and counts an alert it could not send', () => {
    expect(definition.States['Fence: set switches'].Parameters).toEqual({ action: 'setSwitches', activeRegion: region });
    expect(definition.States['Notify: alert'].Catch[0].Next).toBe('Notify: count failed alert');
    expect(definition.States['Notify: count failed alert'].Parameters).toEqual({
      Namespace: 'trading-dr/dev',
      MetricData: [{ MetricName: 'FailoverNotificationsFailed', Dimensions: [{ Name: 'Region', Value: region }], Value: 1, Unit: 'Count' }],
    });
  });

  it("lets its role act only on this deployment's resources, and on no Route 53 record or health check", () => {
    const statements = statementsOfRole(template, naming.name('role', 'orchestrator'));
    expect(statements.length).toBeGreaterThan(5);
    for (const statement of statements) {
      for (const action of [statement.Action].flat() as string[]) expect(action).not.toMatch(/^route53|^\*$|:\*$/);
      for (const resource of [statement.Resource].flat()) {
        if (resource === '*') {
          const actions = [statement.Action].flat() as string[];
          // Log delivery and X-Ray (added by Step Functions' logging and tracing) have no resource scope.
          if (
            actions.every((action) =>
              /^logs:(Create|Delete|Get|Update|List)LogDeliver(y|ies)$|^logs:Describe(LogGroups|ResourcePolicies)$|^logs:PutResourcePolicy$|^xray:/.test(
                action,
              ),
            )
          )
            continue;
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

describe.each(['primary', 'secondary'] as const)('journal reconciliation in the %s region', (role) => {
  const naming = namingFor(config, regions[role]);

  it("may write the control table's reconcile-cursor item and no other", () => {
    const statements = statementsOfRole(templates[role], naming.name('role', Purpose.reconcile));
    const writes = statements.filter((statement) =>
      [statement.Action].flat().some((action: string) => /dynamodb:(PutItem|UpdateItem|DeleteItem)/.test(action)),
    );
    // The primary refers to the table it creates, the secondary to it by name.
    const onControl = writes.filter((statement) => /ControlTable|ddb-control/.test(JSON.stringify(statement.Resource)));
    expect(onControl).toEqual([
      expect.objectContaining({
        Sid: 'RecordReconcileCursor',
        Action: expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:DeleteItem']),
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [ControlTableSchema.reconcileCursorItem] } },
      }),
    ]);
    expect(onControl[0].Action).toHaveLength(2);
  });
});

describe('the prober', () => {
  it('runs in the secondary region only', () => {
    templates.primary.resourcePropertiesCountIs('AWS::Lambda::Function', { FunctionName: namingFor(config, 'us-east-1').name('function', 'prober') }, 0);
    templates.secondary.resourcePropertiesCountIs('AWS::Lambda::Function', { FunctionName: namingFor(config, 'us-east-2').name('function', 'prober') }, 1);
  });

  it('runs every minute with the configured interval, threshold and failback settings', () => {
    templates.secondary.hasResourceProperties('AWS::Events::Rule', {
      Name: namingFor(config, 'us-east-2').name('rule', 'prober'),
      ScheduleExpression: 'rate(1 minute)',
    });
    const [prober] = Object.values(templates.secondary.findResources('AWS::Lambda::Function', { Properties: { FunctionName: 'fn-prober-use2-dev' } }));
    expect(prober.Properties.Environment.Variables).toEqual(
      expect.objectContaining({
        FAILURE_THRESHOLD: '4',
        PROBE_INTERVAL_SECONDS: '15',
        MINIMUM_OUTAGE_SECONDS: '45',
        RESTART_AFTER_SECONDS: '600',
        AUTO_FAILBACK: 'false',
        FAILBACK_AFTER_HEALTHY_SECONDS: '1200',
        PEER_REGION: 'us-east-1',
        API_HOST_NAME: 'api.trading.example.com',
      }),
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

import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledgeGeneratedWildcards } from '../core/compliance';
import type { AppConfig } from '../core/config';
import { drillReportPrefix, Naming, ParameterKey, ParameterKeyName, Purpose } from '../core/naming';

/**
 * The role the pipeline's drill steps assume in the test environment's account. The drills run
 * in CodeBuild in the delivery account; everything they touch (both regions' failover state
 * machines, the control table, the API parameters, the FIS experiment, the audit bucket's drill
 * prefix) lives in the test account. So the test environment's primary stage creates this role,
 * trusted by the delivery account only for the drill projects' own roles, and the drill CLI
 * assumes it (`--role-arn`). Production's stages never create it: nothing a drill runs can reach
 * production (test/pipeline/accounts.test.ts proves it).
 */

/** The pipeline's drill steps, each run by a CodeBuild project with a role of its own in the delivery account. */
export const DRILL_STEPS = {
  FailoverDrill: 'failover-drill',
  FailbackDrill: 'failback-drill',
  UnplannedDrill: 'unplanned-drill',
} as const;

export type DrillStepId = keyof typeof DRILL_STEPS;

/** Name of a drill project's role in the delivery account (`pipelineConfig` is the delivery config). */
export function drillProjectRoleName(pipelineConfig: Pick<AppConfig, 'appName' | 'account' | 'primaryRegion'>, step: DrillStepId): string {
  return Naming.forPipeline(pipelineConfig, pipelineConfig.primaryRegion).name('role', DRILL_STEPS[step]);
}

/** Name of the drill role in the test account (`config` is the test environment's). */
export function drillAccessRoleName(config: Pick<AppConfig, 'appName' | 'account' | 'environmentSuffix' | 'primaryRegion'>): string {
  return Naming.forDeployment(config, config.primaryRegion).name('role', Purpose.drillAccess);
}

/** Who may assume the drill role: the drill projects' roles, by name, in the delivery account. */
export interface DrillTrust {
  readonly deliveryAccount: string;
  readonly projectRoleNames: string[];
}

export interface DrillAccessProps {
  /** The test environment's config (its account, names and regions). */
  readonly config: AppConfig;
  readonly trust: DrillTrust;
}

export class DrillAccess extends Construct {
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: DrillAccessProps) {
    super(scope, id);
    const { config, trust } = props;
    const stack = Stack.of(this);
    const projectRoleArns = trust.projectRoleNames.map((name) =>
      Arn.format({ service: 'iam', region: '', account: trust.deliveryAccount, resource: 'role', resourceName: name }, stack),
    );
    this.role = new iam.Role(this, 'Role', {
      roleName: drillAccessRoleName(config),
      description: `Assumed by the pipeline's drill steps to drill ${config.environmentSuffix}; trusts only their roles in ${trust.deliveryAccount}`,
      // The account principal with the roles' ARNs as a condition, not the roles as principals: a
      // trust naming a role breaks for good when that role is replaced, and the condition does not.
      assumedBy: new iam.AccountPrincipal(trust.deliveryAccount).withConditions({ ArnEquals: { 'aws:PrincipalArn': projectRoleArns } }),
    });
    for (const statement of drillStatements(config, stack)) this.role.addToPolicy(statement);
    acknowledgeGeneratedWildcards(
      this.role,
      "The drills read their own state machines' executions (ids are generated) and GetMetricStatistics (no resource scope), write reports below the audit buckets' drill prefix with the storage key picked by alias, " +
        "and the unplanned drill starts only the experiment template tagged with this environment's name and stops the experiments it started",
    );
  }
}

/**
 * What the drills do, and nothing more: run and read both regions' failover state machines, read
 * the control items and the API parameters, read metrics, write their reports below the audit
 * bucket's drill prefix; with `faultInjectionDrills`, start and stop the experiment template tagged
 * with this environment's name and set the drill switch.
 */
function drillStatements(config: AppConfig, stack: Stack): iam.PolicyStatement[] {
  const { account, primaryRegion, secondaryRegion } = config;
  const regions = [primaryRegion, secondaryRegion].map((region) => Naming.forDeployment(config, region));
  const [primary, secondary] = regions;
  const arn = (components: Parameters<typeof Arn.format>[0]) => Arn.format({ account, ...components }, stack);
  const stateMachine = (naming: Naming, resource: 'stateMachine' | 'execution', tail = '') =>
    arn({
      service: 'states',
      region: naming.region,
      resource,
      resourceName: `${naming.name('stateMachine', Purpose.failover)}${tail}`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  const parameter = (naming: Naming, key: ParameterKeyName) =>
    arn({ service: 'ssm', region: naming.region, resource: 'parameter', resourceName: naming.parameterName(key).slice(1) });
  const statements = [
    new iam.PolicyStatement({
      actions: ['states:StartExecution', 'states:ListExecutions'],
      resources: regions.map((naming) => stateMachine(naming, 'stateMachine')),
    }),
    new iam.PolicyStatement({
      actions: ['states:DescribeExecution', 'states:GetExecutionHistory'],
      resources: regions.map((naming) => stateMachine(naming, 'execution', ':*')),
    }),
    new iam.PolicyStatement({
      actions: ['dynamodb:GetItem'],
      resources: regions.map((naming) =>
        arn({ service: 'dynamodb', region: naming.region, resource: 'table', resourceName: naming.name('table', Purpose.control) }),
      ),
    }),
    new iam.PolicyStatement({
      actions: ['ssm:GetParameter'],
      resources: [
        ...regions.map((naming) => parameter(naming, ParameterKey.apiRegionalDomainName)),
        ...(config.faultInjectionDrills ? [parameter(primary, ParameterKey.faultInjectionTemplateId)] : []),
      ],
    }),
    // GetMetricStatistics has no resource-level permissions.
    new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricStatistics'], resources: ['*'] }),
    // Reports: below the drill prefix of each region's audit bucket, with that region's storage key (named by alias).
    new iam.PolicyStatement({
      actions: ['s3:PutObject'],
      resources: regions.map((naming) =>
        arn({
          service: 's3',
          region: '',
          account: '',
          resource: naming.name('bucket', Purpose.auditLogs),
          resourceName: `${drillReportPrefix(config.environmentSuffix)}*`,
        }),
      ),
    }),
    new iam.PolicyStatement({
      actions: ['kms:GenerateDataKey'],
      resources: regions.map((naming) => arn({ service: 'kms', region: naming.region, resource: 'key', resourceName: '*' })),
      conditions: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': regions.map((naming) => naming.name('keyAlias', Purpose.storage)) } },
    }),
  ];
  if (!config.faultInjectionDrills) return statements;
  const fis = (resource: string) => arn({ service: 'fis', region: primaryRegion, resource, resourceName: '*' });
  return [
    ...statements,
    new iam.PolicyStatement({ actions: ['ssm:PutParameter', 'ssm:DeleteParameter'], resources: [parameter(secondary, ParameterKey.drillForcedPromotion)] }),
    // The template's id is generated; its Name tag (from the naming helper) picks out this environment's.
    new iam.PolicyStatement({
      actions: ['fis:StartExperiment'],
      resources: [fis('experiment-template')],
      conditions: { StringEquals: { 'aws:ResourceTag/Name': primary.name('experimentTemplate', Purpose.faultInjection) } },
    }),
    new iam.PolicyStatement({ actions: ['fis:StartExperiment', 'fis:StopExperiment', 'fis:GetExperiment'], resources: [fis('experiment')] }),
  ];
}

import { Arn, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { clusterArn, globalClusterArn } from '../data/global-database';
import { acknowledgeScopedWildcards } from '../core/compliance';
import { Naming, Purpose } from '../core/naming';
import { publishMetricsStatement } from '../core/service-metric';

export interface CrossRegionAccessProps {
  /** Names for this region's resources. */
  readonly naming: Naming;
  /** The other region of the deployment, whose resources these roles also act on. */
  readonly peerRegion: string;
}

/**
 * The IAM role for work that spans both regions: the failover orchestrator (Step Functions) in
 * one region reads and acts on the other region's resources (the readiness check's role is in
 * lib/observability/readiness-check.ts, next to its function). Every statement is scoped to this deployment's resource ARNs, which are built from
 * deterministic names, so the roles exist before the resources do and never reach beyond them.
 *
 * Neither role can change Route 53: failover moves traffic through health checks (the data
 * plane), never through record changes on Route 53's control plane in us-east-1.
 */
export class CrossRegionAccess extends Construct {
  /** Assumed by the failover state machine: fences, watches the promotion, records metrics. */
  public readonly orchestratorRole: iam.IRole;

  private readonly naming: Naming;
  private readonly regions: string[];

  constructor(scope: Construct, id: string, props: CrossRegionAccessProps) {
    super(scope, id);
    this.naming = props.naming;
    this.regions = [props.naming.region, props.peerRegion];

    const orchestratorRole = new iam.Role(this, 'OrchestratorRole', {
      roleName: props.naming.name('role', Purpose.orchestrator),
      description: 'Failover orchestrator: fences the control table, watches the Aurora global cluster, records metrics',
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
    });
    for (const statement of [
      this.readParameters(),
      new iam.PolicyStatement({
        sid: 'FenceControlTable',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'],
        resources: this.tableArns(Purpose.control),
      }),
      new iam.PolicyStatement({
        sid: 'ReadOrderJournal',
        actions: ['dynamodb:GetItem', 'dynamodb:Query'],
        resources: [...this.tableArns(Purpose.orderJournal), ...this.journalIndexArns()],
      }),
      // Promotion itself is the steps function's (it must reach the primary's region for a
      // switchover, which a Step Functions SDK task cannot): the state machine only watches it.
      new iam.PolicyStatement({
        sid: 'ReadGlobalDatabase',
        actions: ['rds:DescribeGlobalClusters'],
        resources: [globalClusterArn(Stack.of(this), this.naming), ...this.clusterArns()],
      }),
      new iam.PolicyStatement({ sid: 'DescribeClusters', actions: ['rds:DescribeDBClusters'], resources: this.clusterArns() }),
      this.putMetrics(),
    ]) {
      orchestratorRole.addToPolicy(statement);
    }

    Validations.of(orchestratorRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'cloudwatch:PutMetricData has no resource-level permissions; the statement is limited to this deployment by the cloudwatch:namespace condition',
    });
    acknowledgeScopedWildcards(orchestratorRole, this.parameterArns(), "Reads only the parameters under this deployment's own prefix, in its two regions");
    acknowledgeScopedWildcards(
      orchestratorRole,
      this.journalIndexArns(),
      "Reconciliation queries the order journal's own indexes (named by the data layer); no other table",
    );

    this.orchestratorRole = orchestratorRole;
  }

  private readParameters(): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid: 'ReadDeploymentParameters',
      actions: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath'],
      resources: this.parameterArns(),
    });
  }

  /** Every parameter under this deployment's prefix, in both regions. */
  private parameterArns(): string[] {
    const stack = Stack.of(this);
    return this.regions.map((region) =>
      Arn.format({ service: 'ssm', region, resource: 'parameter', resourceName: `${this.naming.parameterPrefix().slice(1)}/*` }, stack),
    );
  }

  private putMetrics(): iam.PolicyStatement {
    return publishMetricsStatement(this.naming, 'PutDeploymentMetrics');
  }

  private tableArns(purpose: string): string[] {
    const stack = Stack.of(this);
    const tableName = this.naming.name('table', purpose);
    return this.regions.map((region) => Arn.format({ service: 'dynamodb', region, resource: 'table', resourceName: tableName }, stack));
  }

  private journalIndexArns(): string[] {
    return this.tableArns(Purpose.orderJournal).map((arn) => `${arn}/index/*`);
  }

  private clusterArns(): string[] {
    return this.regions.map((region) => clusterArn(Stack.of(this), this.naming, region));
  }
}

import { Arn, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { KEEPER_SCHEDULE_SECONDS, KEEPER_TIMEOUT_SECONDS, MAX_PUBLISHES_PER_MINUTE, SWITCH_KEEPER } from '../../lambda/contracts/switch-keeper';
// Types only: the handlers' module loads the AWS SDK, which the app has no use for.
import type { SwitchPosition, SwitchRef } from '../../lambda/contracts/switches';
import { switchRefFor } from './evacuation-switch';
import { HandlerFunction } from '../core/handler-function';
import { Naming, Purpose } from '../core/naming';
import { publishMetricsStatement } from '../core/service-metric';

/** Three passes a minute, one every 20 s: a failed pass or a late run still leaves data in every minute. */
const DEFAULT_PUBLISHES_PER_MINUTE = 3;

/** The keeper mostly waits between passes, and Lambda bills the wait: the smallest memory keeps it cheap. */
const KEEPER_MEMORY_MB = 128;

/** Where a new switch starts: a region is not evacuated until someone throws its switch. */
const INITIAL_POSITION: SwitchPosition = 'released';

export interface SwitchKeeperProps {
  /** Names for this region's resources. */
  readonly naming: Naming;
  /** The other region of the deployment: the region whose switch this one hosts. */
  readonly peerRegion: string;
  /** Datapoints published per minute, evenly spaced (at most `MAX_PUBLISHES_PER_MINUTE`). @default 3 */
  readonly publishesPerMinute?: number;
  /** Log retention (config's `logRetentionDays`). */
  readonly logRetention: logs.RetentionDays;
  /** The source map in the package (config's `lambdaSourceMaps`). */
  readonly sourceMaps: boolean;
}

/**
 * The position of the evacuation switch this region hosts (the peer's), and the function that
 * keeps Route 53 seeing it. Route 53 judges the switch's alarm from its data stream, one-minute
 * period by period, so a position counts only while datapoints carry it: every minute the keeper
 * reads the parameter and publishes its value several times. To throw or release the switch, put
 * `thrown` or `released` into the parameter (the orchestrator does, and so can an operator); the
 * keeper carries it to the alarm within a minute.
 */
export class SwitchKeeper extends Construct {
  /** The switch's position: `thrown` or `released`. */
  public readonly parameter: ssm.IStringParameter;
  /** Where the switch lives and how it is published. */
  public readonly switchRef: SwitchRef;
  /** The keeper function. */
  public readonly function: HandlerFunction;

  constructor(scope: Construct, id: string, props: SwitchKeeperProps) {
    super(scope, id);
    const { naming } = props;
    const publishesPerMinute = publishesPerMinuteOf(props);
    this.switchRef = switchRefFor(naming, props.peerRegion, naming.region);

    // The template's value never changes, so CloudFormation never writes it again: a position put
    // later (PutParameter) survives deploys. Any change to this resource's properties would write
    // `released` back, though: change none of them while a switch is thrown.
    const parameter = new ssm.StringParameter(this, 'Position', {
      parameterName: this.switchRef.parameterName,
      stringValue: INITIAL_POSITION,
      description: `Evacuation switch of ${props.peerRegion}: thrown (Route 53 sends it no traffic) or released`,
      tier: ssm.ParameterTier.STANDARD,
    });
    parameter.applyRemovalPolicy(RemovalPolicy.DESTROY);
    this.parameter = parameter;

    this.function = this.buildFunction(props, publishesPerMinute);
    this.grantKeeping(naming);
    new events.Rule(this, 'Schedule', {
      ruleName: naming.name('rule', Purpose.switchKeeper),
      description: `Republishes the evacuation switch of ${props.peerRegion} every minute`,
      schedule: events.Schedule.rate(Duration.seconds(KEEPER_SCHEDULE_SECONDS)),
      targets: [new targets.LambdaFunction(this.function.function, { retryAttempts: 0 })],
    });
  }

  private buildFunction(props: SwitchKeeperProps, publishesPerMinute: number): HandlerFunction {
    const keeper = new HandlerFunction(this, 'Keeper', {
      naming: props.naming,
      purpose: Purpose.switchKeeper,
      contract: SWITCH_KEEPER,
      variables: {
        SWITCH_PARAMETER: this.switchRef.parameterName,
        EVACUATED_REGION: this.switchRef.evacuatedRegion,
        METRIC_NAMESPACE: this.switchRef.namespace,
        METRIC_NAME: this.switchRef.metricName,
        PUBLISHES_PER_MINUTE: publishesPerMinute,
      },
      description: `Republishes the evacuation switch of ${props.peerRegion} (${this.switchRef.parameterName}) every minute`,
      // Just under the schedule, so one run ends before the next begins.
      timeout: Duration.seconds(KEEPER_TIMEOUT_SECONDS),
      memorySize: KEEPER_MEMORY_MB,
      logRetention: props.logRetention,
      sourceMaps: props.sourceMaps,
    });
    // A failed run is not run again: the next minute's run is the retry.
    keeper.function.configureAsyncInvoke({ retryAttempts: 0 });
    return keeper;
  }

  private grantKeeping(naming: Naming): void {
    const keeper = this.function;
    // The ARN from the name (what the parameter's own ARN resolves to), so the policy reads as what it allows.
    const parameterArn = Arn.format({ service: 'ssm', resource: 'parameter', resourceName: this.switchRef.parameterName.slice(1) }, Stack.of(this));
    iam.Grant.addToPrincipal({ grantee: keeper.function, actions: ['ssm:GetParameter'], resourceArns: [parameterArn] });
    keeper.function.addToRolePolicy(publishMetricsStatement(naming, 'PublishEvacuationSwitch'));
    Validations.of(keeper.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: "cloudwatch:PutMetricData supports no resource-level permissions; it is limited to the deployment's namespace by condition",
    });
  }
}

/** The configured passes per minute, within what one run can make before its timeout. */
function publishesPerMinuteOf(props: SwitchKeeperProps): number {
  const value = props.publishesPerMinute ?? DEFAULT_PUBLISHES_PER_MINUTE;
  if (!Number.isInteger(value) || value < 1 || value > MAX_PUBLISHES_PER_MINUTE) {
    throw new Error(
      `SwitchKeeper: publishesPerMinute ${value} breaks the rule (a whole number from 1 to ${MAX_PUBLISHES_PER_MINUTE}, so the last pass starts before the ${KEEPER_TIMEOUT_SECONDS} s timeout)`,
    );
  }
  return value;
}

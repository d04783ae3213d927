import { Arn, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DrEventType } from './dr-event-bus';
import { Naming, Purpose } from '../core/naming';
import { newDeadLetterQueue } from '../order-path/order-processing';

/** The events the other region must hear about. */
export const FORWARDED_EVENT_TYPES = [
  DrEventType.failoverStarted,
  DrEventType.failoverCompleted,
  DrEventType.failoverFailed,
  DrEventType.readinessFailed,
] as const;

/** How long EventBridge keeps retrying a delivery to the other region before the dead-letter queue. */
const MAX_EVENT_AGE = Duration.hours(2);
const RETRY_ATTEMPTS = 20;

export interface EventForwardingProps {
  /** Names for this region's resources. */
  readonly naming: Naming;
  /** The region to forward to. */
  readonly peerRegion: string;
  /** This region's DR bus, whose critical events are forwarded. */
  readonly bus: events.IEventBus;
  /** The `source` of this deployment's events. */
  readonly source: string;
  /** Alarms whose state changes mean order processing has halted; forwarded too. */
  readonly processingAlarms: cloudwatch.IAlarm[];
}

/**
 * Sends this region's critical events to the other region's DR bus, so an operator or a
 * subscriber there hears about them even when this region's console is gone: failover started,
 * completed or failed, readiness failed (from the DR bus, matched by source and detail type) and
 * order processing halted (alarm state changes of the processing alarms, from the default bus).
 *
 * No loops: the DR-bus rule forwards only events whose `detail.region` is this region, which the
 * publishers set to the region they run in, so an event arriving from the other region is never
 * sent back; alarm state changes arrive on the other region's DR bus, which forwards only its
 * own source. Deliveries are retried, then kept in a dead-letter queue; the role may put events
 * on the other region's DR bus only.
 */
export class EventForwarding extends Construct {
  /** Events that could not be delivered to the other region. */
  public readonly deadLetterQueue: sqs.IQueue;
  /** The rule forwarding DR events. */
  public readonly rule: events.Rule;
  /** The rule forwarding processing-halted alarm changes. */
  public readonly alarmRule: events.Rule;

  constructor(scope: Construct, id: string, props: EventForwardingProps) {
    super(scope, id);
    const { naming } = props;
    const stack = Stack.of(this);
    const peerBusArn = Arn.format(
      { service: 'events', region: props.peerRegion, resource: 'event-bus', resourceName: naming.forRegion(props.peerRegion).name('eventBus', Purpose.events) },
      stack,
    );
    const peerBus = events.EventBus.fromEventBusArn(this, 'PeerBus', peerBusArn);

    this.deadLetterQueue = newDeadLetterQueue(this, naming, Purpose.eventsDeadLetter);
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'It is a dead-letter queue: EventBridge targets name it in their DeadLetterConfig, which cdk-nag does not recognise as redrive',
    });
    const role = new iam.Role(this, 'Role', {
      roleName: naming.name('role', Purpose.eventForwarding),
      description: `Puts this region's DR events on the DR bus in ${props.peerRegion}`,
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
    });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: [peerBusArn] }));
    const target = new targets.EventBus(peerBus, { role, deadLetterQueue: this.deadLetterQueue });

    this.rule = new events.Rule(this, 'Rule', {
      ruleName: naming.name('rule', Purpose.eventForwarding),
      description: `Forwards critical DR events of ${naming.region} to ${props.peerRegion}`,
      eventBus: props.bus,
      eventPattern: { source: [props.source], detailType: [...FORWARDED_EVENT_TYPES], detail: { region: [naming.region] } },
      targets: [target],
    });
    this.alarmRule = new events.Rule(this, 'AlarmRule', {
      ruleName: naming.name('rule', Purpose.processingHalted),
      description: `Forwards order-processing alarms of ${naming.region} to ${props.peerRegion}`,
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        resources: props.processingAlarms.map((alarm) => alarm.alarmArn),
      },
      targets: [target],
    });
    for (const rule of [this.rule, this.alarmRule]) {
      // The EventBus target has no retry settings of its own.
      (rule.node.defaultChild as events.CfnRule).addPropertyOverride('Targets.0.RetryPolicy', {
        MaximumEventAgeInSeconds: MAX_EVENT_AGE.toSeconds(),
        MaximumRetryAttempts: RETRY_ATTEMPTS,
      });
    }
  }
}

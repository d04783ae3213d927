import { Construct } from 'constructs';
import * as events from 'aws-cdk-lib/aws-events';
import { Naming, Purpose } from '../core/naming';

/** The `source` of every event this deployment publishes. */
export function drEventSource(naming: Naming): string {
  return `${naming.props.appName}.failover`;
}

/** What the orchestrator reports, as EventBridge detail types. */
export const DrEventType = {
  failoverStarted: 'Failover Started',
  failoverCompleted: 'Failover Completed',
  failoverFailed: 'Failover Failed',
  /** Published by the readiness check (lambda/readiness) when any check fails. */
  readinessFailed: 'Readiness Failed',
} as const;

export interface DrEventBusProps {
  /** Names for this region's resources. */
  readonly naming: Naming;
}

/**
 * This region's custom event bus for disaster-recovery events (failover completed or failed).
 * Subscribers and cross-region forwarding attach rules to it.
 */
export class DrEventBus extends Construct {
  /** The bus. */
  public readonly bus: events.IEventBus;
  /** The `source` field of the events published here. */
  public readonly source: string;

  constructor(scope: Construct, id: string, props: DrEventBusProps) {
    super(scope, id);
    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName: props.naming.name('eventBus', Purpose.events),
      description: `Disaster-recovery events of ${props.naming.parameterPrefix()} in ${props.naming.region}`,
    });
    this.source = drEventSource(props.naming);
  }
}

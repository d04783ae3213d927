import { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { Naming, Purpose } from '../core/naming';

export interface AlertTopicProps {
  /** Names for this region's resources. */
  readonly naming: Naming;
  /** Where critical alerts are e-mailed. @default - no e-mail subscription */
  readonly email?: string;
}

/**
 * This region's topic for critical alerts (failover started, completed or failed; failback
 * due), encrypted with its own key. CloudWatch alarms and Step Functions publish to it, so both
 * services may use the key.
 */
export class AlertTopic extends Construct {
  /** The topic. */
  public readonly topic: sns.ITopic;
  /** The key the topic is encrypted with (publishers need kms:GenerateDataKey and kms:Decrypt on it). */
  public readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: AlertTopicProps) {
    super(scope, id);
    const key = new kms.Key(this, 'Key', {
      alias: props.naming.name('keyAlias', Purpose.alerts),
      description: `Encrypts the critical alert topic of ${props.naming.parameterPrefix()}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // CloudWatch alarms publish as the service, not as a role of this stack.
    key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:GenerateDataKey*', 'kms:Decrypt');
    const topic = new sns.Topic(this, 'Topic', {
      topicName: props.naming.name('topic', Purpose.alerts),
      displayName: `DR alerts ${props.naming.parameterPrefix()} ${props.naming.region}`,
      masterKey: key,
      enforceSSL: true,
    });
    if (props.email) topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    this.topic = topic;
    this.key = key;
  }
}

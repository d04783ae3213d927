import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PROCESSOR, PROCESSOR_METRICS } from '../../lambda/contracts/processor';
import { AppConfig, VISIBILITY_TIMEOUTS_PER_FUNCTION_TIMEOUT } from '../core/config';
import type { ControlTable } from '../data/control-table';
import type { GlobalDatabase } from '../data/global-database';
import type { OrderJournal } from '../data/order-journal';
import { HandlerFunction } from '../core/handler-function';
import { serviceMetric } from '../core/service-metric';
import { Naming, Purpose } from '../core/naming';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/** The longest SQS keeps a message: dead letters wait two weeks for an operator. */
const DEAD_LETTER_RETENTION = Duration.days(14);

/**
 * A dead-letter queue as every one of the app's is built: named for `purpose`, SQS-managed
 * encryption, TLS only, the longest retention, destroyed with the stack.
 */
export function newDeadLetterQueue(scope: Construct, naming: Naming, purpose: string): sqs.Queue {
  return new sqs.Queue(scope, 'DeadLetterQueue', {
    queueName: naming.name('queue', purpose),
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: DEAD_LETTER_RETENTION,
    removalPolicy: RemovalPolicy.DESTROY,
  });
}

/** The config keys order processing reads (lib/core/config.ts documents and defaults each). */
export type OrderProcessingConfig = Pick<
  AppConfig,
  | 'orderQueueMaxReceiveCount'
  | 'processorBatchSize'
  | 'processorMaxConcurrency'
  | 'processorTimeoutSeconds'
  | 'dbPoolSize'
  | 'logRetentionDays'
  | 'lambdaSourceMaps'
>;

export interface OrderProcessingProps {
  /** Names for this region's resources. */
  readonly naming: Naming;
  /** The deployment's primary region (active before any failover is recorded). */
  readonly primaryRegion: string;
  /** The order journal (this region's replica). */
  readonly journal: OrderJournal;
  /** The control table (this region's replica). */
  readonly controlTable: ControlTable;
  /** This region's database member; the processor runs in its VPC. */
  readonly database: GlobalDatabase;
  /** Receive limit, batch size, concurrency, timeout, pool size and log retention. */
  readonly config: OrderProcessingConfig;
}

/**
 * This region's order queue and its processor: intake sends accepted orders here; the processor
 * commits them to Aurora and marks them applied in the journal, with partial batch responses so
 * one bad message never holds back the rest, and a dead-letter queue after the receive limit.
 */
export class OrderProcessing extends Construct {
  /** What order processing reports in a region, by name alone (so the dashboard shows either region). */
  public static metricsIn(naming: Naming) {
    const queue = (metricName: string, queueName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/SQS',
        metricName,
        dimensionsMap: { QueueName: queueName },
        statistic,
        period: Duration.minutes(1),
        region: naming.region,
      });
    const processor = (metricName: string) => serviceMetric(naming, { service: PROCESSOR.service, metricName, statistic: 'Sum' });
    return {
      /** Age of the oldest order waiting, in seconds. */
      oldestOrderAge: queue('ApproximateAgeOfOldestMessage', naming.name('queue', Purpose.orders), 'Maximum'),
      /** Orders in the dead-letter queue. */
      deadLetters: queue('ApproximateNumberOfMessagesVisible', naming.name('queue', Purpose.ordersDeadLetter), 'Maximum'),
      /** Orders committed to Aurora (the processor's EMF metric). */
      committed: processor(PROCESSOR_METRICS.committed),
      /** Orders that failed to commit and will be retried. */
      commitFailures: processor(PROCESSOR_METRICS.failed),
      /** Orders a standby region received and left to the active one (the journal holds them). */
      deferred: processor(PROCESSOR_METRICS.deferred),
      /** Orders whose client order id another stored row holds (kept in order_conflicts; an operator decides). */
      conflicts: processor(PROCESSOR_METRICS.conflict),
    };
  }

  /** The order queue intake sends to. */
  public readonly queue: sqs.IQueue;
  /** Where messages go after the receive limit. */
  public readonly deadLetterQueue: sqs.IQueue;
  /** The processor. */
  public readonly processor: lambda.IFunction;

  constructor(scope: Construct, id: string, props: OrderProcessingProps) {
    super(scope, id);
    const { naming } = props;
    const { config } = props;
    const timeout = Duration.seconds(config.processorTimeoutSeconds);

    const deadLetterQueue = newDeadLetterQueue(this, naming, Purpose.ordersDeadLetter);
    const queue = new sqs.Queue(this, 'Queue', {
      queueName: naming.name('queue', Purpose.orders),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * VISIBILITY_TIMEOUTS_PER_FUNCTION_TIMEOUT),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: config.orderQueueMaxReceiveCount },
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const handler = new HandlerFunction(this, 'Processor', {
      naming,
      purpose: Purpose.orderProcessor,
      contract: PROCESSOR,
      description: 'Commits accepted orders to Aurora and marks them applied in the journal',
      database: props.database,
      timeout,
      logRetention: config.logRetentionDays,
      sourceMaps: config.lambdaSourceMaps,
      variables: {
        JOURNAL_TABLE: props.journal.table.tableName,
        CONTROL_TABLE: props.controlTable.table.tableName,
        PRIMARY_REGION: props.primaryRegion,
        DB_POOL_SIZE: config.dbPoolSize,
      },
    });
    props.journal.grantMarkApplied(handler.function);
    props.controlTable.grantReadState(handler.function);
    handler.function.addEventSource(
      new sources.SqsEventSource(queue, {
        batchSize: config.processorBatchSize,
        maxBatchingWindow: Duration.seconds(1),
        reportBatchItemFailures: true,
        maxConcurrency: config.processorMaxConcurrency,
      }),
    );

    this.queue = queue;
    this.deadLetterQueue = deadLetterQueue;
    this.processor = handler.function;
  }
}

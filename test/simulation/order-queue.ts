import { randomUUID } from 'crypto';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';

/**
 * A region's order queue on the simulation's clock, with the rules of an SQS standard queue and
 * its Lambda event source mapping that the order path depends on. From the Amazon SQS Developer
 * Guide ([SQS]) and the Lambda Developer Guide ([LAMBDA]):
 * - [SQS] "Amazon SQS visibility timeout": a received message is hidden for the queue's
 *   VisibilityTimeout, and returns unless it is deleted; ApproximateReceiveCount counts receives;
 * - [SQS] "Using dead-letter queues": when a message's receive count exceeds maxReceiveCount, it is
 *   moved to the dead-letter queue;
 * - [LAMBDA] "Using Lambda with Amazon SQS": a batch of up to BatchSize messages per invocation;
 *   with ReportBatchItemFailures, the listed messages return to the queue and the rest are deleted;
 *   an invocation that errs or times out returns the whole batch.
 * A region that is down neither takes nor delivers messages. Not modelled: duplicates of a message
 * (standard queues deliver "at least once"; the processor's idempotence is tested apart).
 */
export interface QueuedMessage {
  readonly messageId: string;
  readonly body: string;
  receiveCount: number;
  visibleAt: number;
}

export class OrderQueueModel {
  readonly messages: QueuedMessage[] = [];
  readonly deadLetters: QueuedMessage[] = [];
  /** SendMessage answers an error (a per-service fault in the region). */
  failing = false;

  constructor(
    readonly region: string,
    private readonly visibilityTimeoutMs: number,
    private readonly maxReceiveCount: number,
    private readonly batchSize: number,
  ) {}

  /** The SQS client intake is given: SendMessage only. */
  client(): SQSClient {
    return {
      send: async (command: { input: { MessageBody?: string } }) => {
        if (this.failing)
          throw Object.assign(new Error(`SendMessage in ${this.region}: service unavailable`), { name: 'ServiceUnavailable', $fault: 'server' });
        const messageId = randomUUID();
        this.messages.push({ messageId, body: command.input.MessageBody!, receiveCount: 0, visibleAt: 0 });
        return { MessageId: messageId };
      },
    } as unknown as SQSClient;
  }

  /** [LAMBDA] the event source mapping's next batch at `now` (the messages become invisible), or undefined. */
  receive(now: number): SQSEvent | undefined {
    const batch = this.messages.filter((message) => message.visibleAt <= now).slice(0, this.batchSize);
    if (batch.length === 0) return undefined;
    for (const message of batch) {
      message.receiveCount++;
      message.visibleAt = now + this.visibilityTimeoutMs;
    }
    return {
      Records: batch.map((message) => ({
        messageId: message.messageId,
        receiptHandle: `${message.messageId}#${message.receiveCount}`,
        body: message.body,
        attributes: {
          ApproximateReceiveCount: String(message.receiveCount),
          SentTimestamp: String(now),
          SenderId: 'simulation',
          ApproximateFirstReceiveTimestamp: String(now),
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:${this.region}:111111111111:orders`,
        awsRegion: this.region,
      })),
    };
  }

  /**
   * [LAMBDA] the invocation's outcome: the messages it did not report failed are deleted; the rest
   * stay invisible until their timeout ([SQS]) and, past the receive limit, move to the dead-letter
   * queue. `failed` undefined: the invocation erred or timed out (the whole batch returns).
   */
  settle(event: SQSEvent, failed: readonly string[] | undefined): void {
    const keep = new Set(failed ?? event.Records.map((record) => record.messageId));
    for (const record of event.Records) {
      const index = this.messages.findIndex((message) => message.messageId === record.messageId);
      if (index < 0) continue;
      const message = this.messages[index];
      if (!keep.has(record.messageId)) {
        this.messages.splice(index, 1);
      } else if (message.receiveCount >= this.maxReceiveCount) {
        // [SQS] moved once the receive count exceeds the limit: at the next receive after this one.
        this.messages.splice(index, 1);
        this.deadLetters.push(message);
      }
    }
  }
}

import type { SQSEvent, SQSRecord } from 'aws-lambda';

/** An SQS event as Lambda delivers it. */
export function sqsEvent(messages: Array<{ messageId: string; body: string; receiveCount?: number }>): SQSEvent {
  return {
    Records: messages.map((message): SQSRecord => ({
      messageId: message.messageId,
      receiptHandle: `handle-${message.messageId}`,
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount ?? 1),
        SentTimestamp: String(Date.now()),
        SenderId: 'test',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:111111111111:orders',
      awsRegion: 'us-east-1',
    })),
  };
}

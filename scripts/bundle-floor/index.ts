import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';

/**
 * The benchmark's floor: the two calls intake makes on the order path (a conditional put into the
 * journal, a message to the queue) with nothing but the DynamoDB and SQS clients. Bundled with the
 * same options as the handlers, it is the smallest a bundle doing intake's work can be; each
 * handler's size and start-up are compared with it.
 */
const dynamodb = new DynamoDBClient({});
const sqs = new SQSClient({});

export async function handler(event: { body: string }): Promise<{ statusCode: number }> {
  const order = JSON.parse(event.body) as { clientOrderId: string; accountId: string };
  const orderKey = `${order.accountId}/${order.clientOrderId}`;
  await dynamodb.send(
    new PutItemCommand({
      TableName: process.env.JOURNAL_TABLE,
      Item: { orderKey: { S: orderKey }, body: { S: event.body } },
      ConditionExpression: 'attribute_not_exists(orderKey)',
    }),
  );
  await sqs.send(new SendMessageCommand({ QueueUrl: process.env.QUEUE_URL, MessageBody: event.body }));
  return { statusCode: 201 };
}

import { randomBytes } from 'crypto';
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { awsSdkErrorName, runStateMachine, taskError } from '../helpers/state-machine';
import { definitionFromTemplate, stateMachineFromTemplate } from '../helpers/state-machine-template';

// Clients against moto_server (AWS_ENDPOINT_URL is set by the global setup), as test/helpers/aws.ts does.
const dynamodb = new DynamoDBClient({});
const sns = new SNSClient({});
const cloudwatch = new CloudWatchClient({});
const eventbridge = new EventBridgeClient({});
const sqs = new SQSClient({});

function unique(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

async function createTable(): Promise<string> {
  const TableName = unique('claims');
  await dynamodb.send(
    new CreateTableCommand({
      TableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    }),
  );
  return TableName;
}

async function createTopic(): Promise<string> {
  return (await sns.send(new CreateTopicCommand({ Name: unique('alerts') }))).TopicArn!;
}

/** The message of the error a call throws (for asserting several parts of one message). */
function thrownBy(call: () => unknown): string {
  try {
    call();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the call to throw');
}

/**
 * Claims an order with a conditional write. The first catcher has the other integration's casing,
 * so reaching AlreadyClaimed proves the error name matched exactly.
 */
function claimOrder(resource: string, tableName: string, errorName: string, otherCasing: string): Record<string, unknown> {
  return {
    StartAt: 'Claim',
    States: {
      Claim: {
        Type: 'Task',
        Resource: resource,
        Parameters: {
          TableName: tableName,
          Key: { pk: { 'S.$': '$.orderId' } },
          UpdateExpression: 'SET claimedBy = :worker',
          ConditionExpression: 'attribute_not_exists(claimedBy)',
          ExpressionAttributeValues: { ':worker': { 'S.$': '$.worker' } },
        },
        ResultPath: null,
        Catch: [
          { ErrorEquals: [otherCasing], Next: 'WrongCasing' },
          { ErrorEquals: [errorName], ResultPath: '$.error', Next: 'AlreadyClaimed' },
        ],
        Next: 'Claimed',
      },
      Claimed: { Type: 'Succeed' },
      AlreadyClaimed: { Type: 'Pass', End: true },
      WrongCasing: { Type: 'Fail', Error: 'WrongCasing' },
    },
  };
}

describe('runStateMachine against moto', () => {
  it.each([
    {
      integration: 'AWS SDK',
      resource: 'arn:aws:states:::aws-sdk:dynamodb:updateItem',
      errorName: 'DynamoDb.ConditionalCheckFailedException',
      otherCasing: 'DynamoDB.ConditionalCheckFailedException',
      causeDetails: '(Service: DynamoDb, Status Code: 400, Request ID: ',
    },
    {
      integration: 'optimized',
      resource: 'arn:aws:states:::dynamodb:updateItem',
      errorName: 'DynamoDB.ConditionalCheckFailedException',
      otherCasing: 'DynamoDb.ConditionalCheckFailedException',
      causeDetails: '(Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ConditionalCheckFailedException; Request ID: ',
    },
  ])(
    'catches a failed conditional write of the $integration integration by its Step Functions error name ($errorName)',
    async ({ resource, errorName, otherCasing, causeDetails }) => {
      const tableName = await createTable();
      const definition = claimOrder(resource, tableName, errorName, otherCasing);

      const first = await runStateMachine(definition, { orderId: 'o-1', worker: 'a' });
      const second = await runStateMachine(definition, { orderId: 'o-1', worker: 'b' });

      expect(first).toMatchObject({ status: 'SUCCEEDED', path: ['Claim', 'Claimed'] });
      expect(second).toMatchObject({ status: 'SUCCEEDED', path: ['Claim', 'AlreadyClaimed'] });
      const error = (second.output as { error: { Error: string; Cause: string } }).error;
      expect(error.Error).toBe(errorName);
      expect(error.Cause).toContain('The conditional request failed');
      expect(error.Cause).toContain(causeDetails);
      const item = await dynamodb.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'o-1' } } }));
      expect(item.Item?.claimedBy).toEqual({ S: 'a' });
    },
  );

  it.each([
    { resource: 'arn:aws:states:::aws-sdk:dynamodb:putItem', errorName: 'DynamoDb.DynamoDbException' },
    { resource: 'arn:aws:states:::dynamodb:putItem', errorName: 'DynamoDB.AmazonDynamoDBException' },
  ])('names an error the service model does not declare as $errorName for $resource', async ({ resource, errorName }) => {
    const tableName = await createTable();
    // No key attribute: DynamoDB answers ValidationException, which its API model does not declare.
    const definition = {
      StartAt: 'Save',
      States: { Save: { Type: 'Task', Resource: resource, Parameters: { TableName: tableName, Item: { other: { S: 'x' } } }, End: true } },
    };

    const result = await runStateMachine(definition, {});

    expect(result).toMatchObject({ status: 'FAILED', path: ['Save'], error: { name: errorName } });
    expect(result.error!.cause).toContain('Missing the key pk');
  });

  it('returns DynamoDB items in the casing each integration gives them', async () => {
    const tableName = await createTable();
    const key = { pk: { S: 'o-2' } };
    const definition = {
      StartAt: 'Save',
      States: {
        Save: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:dynamodb:putItem',
          Parameters: { TableName: tableName, Item: { ...key, paid: { BOOL: true }, note: { NULL: true } } },
          ResultPath: null,
          Next: 'ReadSdk',
        },
        ReadSdk: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:dynamodb:getItem',
          Parameters: { TableName: tableName, Key: key },
          ResultPath: '$.sdk',
          Next: 'ReadOptimized',
        },
        ReadOptimized: {
          Type: 'Task',
          Resource: 'arn:aws:states:::dynamodb:getItem',
          Parameters: { TableName: tableName, Key: key },
          ResultPath: '$.optimized',
          End: true,
        },
      },
    };

    const { status, output } = await runStateMachine(definition, {});

    expect(status).toBe('SUCCEEDED');
    const { sdk, optimized } = output as Record<string, any>;
    // Step Functions' SDK integrations name these types as the AWS SDK for Java 2.x does.
    expect(sdk).toEqual({ Item: { pk: { S: 'o-2' }, paid: { Bool: true }, note: { Nul: true } } });
    expect(optimized.Item).toEqual({ pk: { S: 'o-2' }, paid: { BOOL: true }, note: { NULL: true } });
    expect(optimized.SdkHttpMetadata.HttpStatusCode).toBe(200);
    expect(typeof optimized.SdkResponseMetadata.RequestId).toBe('string');
  });

  it('writes a CloudWatch datapoint through aws-sdk:cloudwatch:putMetricData', async () => {
    const namespace = unique('Harness');
    const definition = {
      StartAt: 'PublishMetric',
      States: {
        PublishMetric: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:cloudwatch:putMetricData',
          Parameters: {
            Namespace: namespace,
            MetricData: [{ MetricName: 'OrdersAccepted', 'Value.$': '$.accepted', Unit: 'Count', Dimensions: [{ Name: 'Region', Value: 'us-east-1' }] }],
          },
          End: true,
        },
      },
    };

    const result = await runStateMachine(definition, { accepted: 7 });

    expect(result).toMatchObject({ status: 'SUCCEEDED', output: {}, path: ['PublishMetric'] });
    const statistics = await cloudwatch.send(
      new GetMetricStatisticsCommand({
        Namespace: namespace,
        MetricName: 'OrdersAccepted',
        Dimensions: [{ Name: 'Region', Value: 'us-east-1' }],
        StartTime: new Date(Date.now() - 10 * 60_000),
        EndTime: new Date(Date.now() + 60_000),
        Period: 60,
        Statistics: ['Sum'],
      }),
    );
    expect(statistics.Datapoints?.map((datapoint) => datapoint.Sum)).toEqual([7]);
  });

  it('publishes to an SNS topic and returns the MessageId through both integrations', async () => {
    const topicArn = await createTopic();
    const definition = {
      StartAt: 'Optimized',
      States: {
        // The optimized integration stringifies a JSON Message.
        Optimized: {
          Type: 'Task',
          Resource: 'arn:aws:states:::sns:publish',
          Parameters: { TopicArn: topicArn, Message: { 'orderId.$': '$.orderId' } },
          ResultPath: '$.optimized',
          Next: 'Sdk',
        },
        Sdk: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:sns:publish',
          Parameters: { TopicArn: topicArn, 'Message.$': '$.orderId' },
          ResultPath: '$.sdk',
          End: true,
        },
      },
    };

    const { status, output } = await runStateMachine(definition, { orderId: 'o-3' });

    expect(status).toBe('SUCCEEDED');
    const { optimized, sdk } = output as Record<string, any>;
    expect(optimized.MessageId).toEqual(expect.any(String));
    expect(optimized.SdkHttpMetadata.HttpStatusCode).toBe(200);
    expect(Object.keys(sdk)).toEqual(['MessageId']);
  });

  it.each([
    { resource: 'arn:aws:states:::sns:publish', errorName: 'SNS.NotFoundException' },
    { resource: 'arn:aws:states:::aws-sdk:sns:publish', errorName: 'Sns.NotFoundException' },
  ])('fails a publish to a missing topic with $errorName', async ({ resource, errorName }) => {
    const missingTopic = `${await createTopic()}-missing`;
    const definition = {
      StartAt: 'Notify',
      States: { Notify: { Type: 'Task', Resource: resource, Parameters: { TopicArn: missingTopic, Message: 'x' }, End: true } },
    };

    const result = await runStateMachine(definition, {});

    expect(result).toMatchObject({ status: 'FAILED', error: { name: errorName } });
  });

  it('sends events with the optimized events:putEvents, stringifying Detail and adding the execution and state machine ARNs', async () => {
    const source = unique('harness.orders');
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: unique('events') }))).QueueUrl!;
    const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn;
    const rule = unique('orders');
    await eventbridge.send(new PutRuleCommand({ Name: rule, EventPattern: JSON.stringify({ source: [source] }) }));
    await eventbridge.send(new PutTargetsCommand({ Rule: rule, Targets: [{ Id: 'queue', Arn: queueArn }] }));
    const definition = {
      StartAt: 'Announce',
      States: {
        Announce: {
          Type: 'Task',
          Resource: 'arn:aws:states:::events:putEvents',
          Parameters: { Entries: [{ Source: source, DetailType: 'OrderAccepted', Detail: { 'orderId.$': '$.orderId' } }] },
          End: true,
        },
      },
    };

    const result = await runStateMachine(definition, { orderId: 'o-4' }, { stateMachineName: 'Orders', context: { Execution: { Name: 'run-1' } } });

    expect(result).toMatchObject({ status: 'SUCCEEDED', output: { FailedEntryCount: 0, Entries: [{ EventId: expect.any(String) }] } });
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
    const event = JSON.parse(received.Messages![0].Body!);
    expect(event.detail).toEqual({ orderId: 'o-4' });
    expect(event.resources).toEqual([
      'arn:aws:states:us-east-1:123456789012:stateMachine:Orders',
      'arn:aws:states:us-east-1:123456789012:execution:Orders:run-1',
    ]);
  });
});

describe('runStateMachine with handlers', () => {
  it('loops through Wait and Choice until the handler reports ready on its third call', async () => {
    const inputs: unknown[] = [];
    const definition = {
      StartAt: 'CheckReplication',
      States: {
        CheckReplication: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: 'arn:aws:lambda:us-east-1:123456789012:function:replication-status', 'Payload.$': '$' },
          ResultSelector: { 'ready.$': '$.Payload.ready' },
          ResultPath: '$.replication',
          Next: 'IsReplicated',
        },
        IsReplicated: {
          Type: 'Choice',
          Choices: [{ Variable: '$.replication.ready', BooleanEquals: true, Next: 'Replicated' }],
          Default: 'WaitForReplication',
        },
        WaitForReplication: { Type: 'Wait', Seconds: 60, Next: 'CheckReplication' },
        Replicated: { Type: 'Succeed' },
      },
    };

    const result = await runStateMachine(
      definition,
      { table: 'orders' },
      {
        handlers: {
          CheckReplication: async (input) => {
            inputs.push(input);
            return { StatusCode: 200, Payload: { ready: inputs.length === 3 } };
          },
        },
        waitTimeOverrides: { WaitForReplication: 0 },
      },
    );

    expect(result.status).toBe('SUCCEEDED');
    expect(result.path).toEqual([
      'CheckReplication',
      'IsReplicated',
      'WaitForReplication',
      'CheckReplication',
      'IsReplicated',
      'WaitForReplication',
      'CheckReplication',
      'IsReplicated',
      'Replicated',
    ]);
    expect(result.output).toEqual({ table: 'orders', replication: { ready: true } });
    // The handler receives the state's Parameters applied to its input, not the raw state input.
    expect(inputs[0]).toEqual({ FunctionName: 'arn:aws:lambda:us-east-1:123456789012:function:replication-status', Payload: { table: 'orders' } });
    expect(inputs[1]).toEqual({
      FunctionName: 'arn:aws:lambda:us-east-1:123456789012:function:replication-status',
      Payload: { table: 'orders', replication: { ready: false } },
    });
  });

  it('gives a handler the input after InputPath and Parameters, with Context Object values', async () => {
    let received: unknown;
    const definition = {
      StartAt: 'Price',
      States: {
        Price: {
          Type: 'Task',
          Resource: 'arn:aws:lambda:us-east-1:123456789012:function:price',
          InputPath: '$.order',
          Parameters: { 'id.$': '$.id', 'execution.$': '$$.Execution.Name', currency: 'USD' },
          ResultSelector: { 'total.$': '$.total' },
          ResultPath: '$.price',
          Next: 'Describe',
        },
        Describe: {
          Type: 'Pass',
          Parameters: {
            'executionId.$': '$$.Execution.Id',
            'stateMachineId.$': '$$.StateMachine.Id',
            'stateMachineName.$': '$$.StateMachine.Name',
            'input.$': '$$.Execution.Input',
            'startTime.$': '$$.Execution.StartTime',
          },
          ResultPath: '$.context',
          End: true,
        },
      },
    };

    const result = await runStateMachine(
      definition,
      { order: { id: 'o-5', lines: 2 } },
      {
        stateMachineName: 'Pricing',
        handlers: {
          Price: (input) => {
            received = input;
            return { total: 42, ignored: true };
          },
        },
      },
    );

    expect(result.status).toBe('SUCCEEDED');
    const { price, context } = result.output as Record<string, any>;
    expect(received).toEqual({ id: 'o-5', execution: expect.stringMatching(/^[0-9a-f-]{36}$/), currency: 'USD' });
    expect(price).toEqual({ total: 42 });
    expect(context.executionId).toBe(`arn:aws:states:us-east-1:123456789012:execution:Pricing:${(received as { execution: string }).execution}`);
    expect(context.stateMachineId).toBe('arn:aws:states:us-east-1:123456789012:stateMachine:Pricing');
    expect(context.stateMachineName).toBe('Pricing');
    expect(context.input).toEqual({ order: { id: 'o-5', lines: 2 } });
    expect(Number.isNaN(Date.parse(context.startTime))).toBe(false);
  });

  it('retries a task by its error name without entering the state again', async () => {
    let calls = 0;
    const definition = {
      StartAt: 'Charge',
      States: {
        Charge: {
          Type: 'Task',
          Resource: 'arn:aws:lambda:us-east-1:123456789012:function:charge',
          Retry: [{ ErrorEquals: ['Payments.Throttled'], IntervalSeconds: 30, MaxAttempts: 2 }],
          Next: 'Charged',
        },
        Charged: { Type: 'Succeed' },
      },
    };

    const result = await runStateMachine(
      definition,
      {},
      {
        handlers: {
          Charge: () => {
            calls += 1;
            if (calls < 3) throw taskError('Payments.Throttled', 'slow down');
            return { charged: true };
          },
        },
        retryIntervalOverrides: { Charge: 0 },
      },
    );

    expect(result).toMatchObject({ status: 'SUCCEEDED', output: { charged: true }, path: ['Charge', 'Charged'] });
    expect(calls).toBe(3);
    expect(result.events.filter((event) => event.type === 'StateRetried')).toHaveLength(2);
  });

  it('runs handlers inside Parallel branches and Map iterations, keeping the path to top-level states', async () => {
    const definition = {
      StartAt: 'Fan',
      States: {
        Fan: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'Reserve', States: { Reserve: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:123456789012:function:reserve', End: true } } },
            {
              StartAt: 'Each',
              States: {
                Each: {
                  Type: 'Map',
                  ItemsPath: '$.lines',
                  ItemProcessor: {
                    StartAt: 'Line',
                    States: { Line: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:123456789012:function:line', End: true } },
                  },
                  End: true,
                },
              },
            },
          ],
          Next: 'Done',
        },
        Done: { Type: 'Succeed' },
      },
    };

    const result = await runStateMachine(definition, { lines: [1, 2] }, { handlers: { Reserve: () => 'reserved', Line: (line: number) => line * 10 } });

    expect(result).toMatchObject({ status: 'SUCCEEDED', output: ['reserved', [10, 20]], path: ['Fan', 'Done'] });
  });

  it('catches an error a handler raises with a Step Functions name, such as an RDS fault', async () => {
    const definition = {
      StartAt: 'DescribeGlobalCluster',
      States: {
        DescribeGlobalCluster: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:rds:describeGlobalClusters',
          Parameters: { GlobalClusterIdentifier: 'orders' },
          Catch: [{ ErrorEquals: ['Rds.GlobalClusterNotFoundException'], Next: 'NoGlobalCluster' }],
          End: true,
        },
        NoGlobalCluster: { Type: 'Pass', End: true },
      },
    };

    const result = await runStateMachine(
      definition,
      {},
      {
        handlers: {
          DescribeGlobalCluster: () => Promise.reject(taskError(awsSdkErrorName('RDS', 'GlobalClusterNotFoundFault'), 'GlobalCluster orders not found')),
        },
      },
    );

    expect(result).toMatchObject({ status: 'SUCCEEDED', path: ['DescribeGlobalCluster', 'NoGlobalCluster'] });
  });
});

describe('runStateMachine failures', () => {
  it('reports a Fail state as FAILED with its Error and Cause', async () => {
    const definition = {
      StartAt: 'Validate',
      States: {
        Validate: { Type: 'Choice', Choices: [{ Variable: '$.quantity', NumericGreaterThan: 0, Next: 'Accept' }], Default: 'Reject' },
        Accept: { Type: 'Succeed' },
        Reject: { Type: 'Fail', Error: 'Order.Invalid', Cause: 'quantity must be positive' },
      },
    };

    const result = await runStateMachine(definition, { quantity: 0 });

    expect(result).toMatchObject({ status: 'FAILED', error: { name: 'Order.Invalid', cause: 'quantity must be positive' }, path: ['Validate', 'Reject'] });
    expect(result.output).toBeUndefined();
  });

  it('reports an uncaught task error as FAILED with its name and keeps the path', async () => {
    const definition = {
      StartAt: 'Prepare',
      States: {
        Prepare: { Type: 'Pass', Next: 'Charge' },
        Charge: {
          Type: 'Task',
          Resource: 'arn:aws:lambda:us-east-1:123456789012:function:charge',
          Catch: [{ ErrorEquals: ['Payments.Declined'], Next: 'Declined' }],
          End: true,
        },
        Declined: { Type: 'Succeed' },
      },
    };

    const result = await runStateMachine(definition, {}, { handlers: { Charge: () => Promise.reject(taskError('Payments.Unavailable', 'gateway down')) } });

    expect(result).toMatchObject({ status: 'FAILED', error: { name: 'Payments.Unavailable', cause: 'gateway down' }, path: ['Prepare', 'Charge'] });
  });

  it('reports a Fail state without a Cause with an empty cause rather than the package placeholder', async () => {
    const definition = { StartAt: 'Stop', States: { Stop: { Type: 'Fail', Error: 'Order.Stopped' } } };

    const result = await runStateMachine(definition, {});

    expect(result).toMatchObject({ status: 'FAILED', error: { name: 'Order.Stopped', cause: '' }, path: ['Stop'] });
  });

  it('fails with States.Runtime on $$.State, which aws-local-stepfunctions leaves out of the Context Object', async () => {
    // A limitation to know about: Step Functions has $$.State.Name, EnteredTime and RetryCount.
    const definition = { StartAt: 'Stamp', States: { Stamp: { Type: 'Pass', Parameters: { 'enteredAt.$': '$$.State.EnteredTime' }, End: true } } };

    const result = await runStateMachine(definition, {});

    expect(result).toMatchObject({ status: 'FAILED', error: { name: 'States.Runtime' }, path: ['Stamp'] });
  });

  it('reports TIMED_OUT when the execution outlives its TimeoutSeconds', async () => {
    const definition = { TimeoutSeconds: 1, StartAt: 'Linger', States: { Linger: { Type: 'Wait', Seconds: 5, End: true } } };

    const result = await runStateMachine(definition, {});

    expect(result).toMatchObject({ status: 'TIMED_OUT', error: { name: 'States.Timeout' }, path: ['Linger'] });
  });

  it('rejects, naming the state, when a Lambda task has no handler, even under a States.ALL catcher', async () => {
    const definition = {
      StartAt: 'Price',
      States: {
        Price: {
          Type: 'Task',
          Resource: 'arn:aws:lambda:us-east-1:123456789012:function:price',
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Fallback' }],
          End: true,
        },
        Fallback: { Type: 'Pass', End: true },
      },
    };

    await expect(runStateMachine(definition, {})).rejects.toThrow(
      /Task state Price \(arn:aws:lambda:.*function:price\) invokes a Lambda function: give it a handler/,
    );
  });

  it('rejects, naming the state and resource, when a service moto is not used for has no handler', async () => {
    const definition = {
      StartAt: 'DescribeGlobalCluster',
      States: { DescribeGlobalCluster: { Type: 'Task', Resource: 'arn:aws:states:::aws-sdk:rds:describeGlobalClusters', End: true } },
    };

    await expect(runStateMachine(definition, {})).rejects.toThrow(
      /Task state DescribeGlobalCluster \(arn:aws:states:::aws-sdk:rds:describeGlobalClusters\) calls rds/,
    );
  });

  it('rejects overrides that name no state of the definition', async () => {
    const definition = { StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } };

    await expect(runStateMachine(definition, {}, { handlers: { Dnoe: () => ({}) } })).rejects.toThrow(/handlers\.Dnoe \(no Task state of that name\)/);
  });

  it('rejects features aws-local-stepfunctions would silently ignore', async () => {
    const definition = { StartAt: 'Remember', States: { Remember: { Type: 'Pass', Assign: { attempt: 1 }, End: true } } };

    await expect(runStateMachine(definition, {})).rejects.toThrow(/state Remember: Assign \(workflow variables\)/);
  });

  it('rejects a type test against false, which aws-local-stepfunctions never matches (AWS does, for an absent field)', async () => {
    const definition = {
      StartAt: 'Promoted?',
      States: {
        'Promoted?': {
          Type: 'Choice',
          Choices: [
            {
              And: [
                { Variable: '$.mode', IsPresent: true },
                { Variable: '$.promoted', IsPresent: false },
              ],
              Next: 'Done',
            },
          ],
          Default: 'Done',
        },
        Done: { Type: 'Pass', End: true },
      },
    };

    await expect(runStateMachine(definition, {})).rejects.toThrow(
      /state Promoted\?: IsPresent: false \(never matches in aws-local-stepfunctions 3\.0\.0; write Not with true\)/,
    );
  });
});

describe('awsSdkErrorName', () => {
  it.each([
    ['DynamoDB', 'ConditionalCheckFailedException', 'DynamoDb.ConditionalCheckFailedException'],
    ['DynamoDB', undefined, 'DynamoDb.DynamoDbException'],
    ['RDS', 'DBInstanceNotFoundFault', 'Rds.DbInstanceNotFoundException'],
    ['RDS', 'GlobalClusterNotFoundFault', 'Rds.GlobalClusterNotFoundException'],
    ['S3', 'NoSuchBucket', 'S3.NoSuchBucketException'],
    ['SQS', 'QueueDoesNotExist', 'Sqs.QueueDoesNotExistException'],
    ['SFN', 'InvalidArn', 'Sfn.InvalidArnException'],
    ['Secrets Manager', undefined, 'SecretsManager.SecretsManagerException'],
    ['ACM PCA', 'ResourceNotFoundException', 'AcmPca.ResourceNotFoundException'],
  ])('names %s %s as %s', (serviceId, errorShape, expected) => {
    expect(awsSdkErrorName(serviceId, errorShape)).toBe(expected);
  });
});

describe('definitionFromTemplate', () => {
  // Shaped like Template.fromStack(stack).toJSON(): CDK joins the definition around tokens.
  const template = {
    Resources: {
      OrdersTable1A2B3C: { Type: 'AWS::DynamoDB::Table', Properties: {} },
      PriceFunction4D5E6F: { Type: 'AWS::Lambda::Function', Properties: {} },
      AlertsTopic7A8B9C: { Type: 'AWS::SNS::Topic', Properties: {} },
      OrderFlowD1E2F3: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: {
          StateMachineName: 'order-flow',
          DefinitionString: {
            'Fn::Join': [
              '',
              [
                '{"StartAt":"Price","States":{"Price":{"Type":"Task","Resource":"',
                { 'Fn::GetAtt': ['PriceFunction4D5E6F', 'Arn'] },
                '","ResultPath":"$.price","Next":"Save"},"Save":{"Type":"Task","Resource":"arn:',
                { Ref: 'AWS::Partition' },
                ':states:::dynamodb:putItem","Parameters":{"TableName":"',
                { Ref: 'OrdersTable1A2B3C' },
                '","Item":{"pk":{"S.$":"$.orderId"},"total":{"N.$":"States.Format(\'{}\', $.price.total)"}}},"ResultPath":null,"Next":"Notify"},',
                '"Notify":{"Type":"Task","Resource":"arn:aws:states:::sns:publish","Parameters":{"TopicArn":"${AlertsTopicArn}","Message.$":"$.orderId"},"ResultPath":null,"End":true}}}',
              ],
            ],
          },
          DefinitionSubstitutions: { AlertsTopicArn: { Ref: 'AlertsTopic7A8B9C' } },
        },
      },
      AuditFlowA9B8C7: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: {
          DefinitionString: {
            'Fn::Join': [
              '',
              [
                '{"StartAt":"Audit","States":{"Audit":{"Type":"Pass","Result":{"table":"',
                { 'Fn::Select': [1, { 'Fn::Split': ['/', { 'Fn::GetAtt': ['OrdersTable1A2B3C', 'StreamArn'] }] }] },
                '","topic":"',
                { 'Fn::Sub': 'arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:audit-${AWS::URLSuffix}' },
                '"},"End":true}}}',
              ],
            ],
          },
        },
      },
    },
  };

  it('resolves Fn::Join, Ref, Fn::GetAtt, pseudo parameters and DefinitionSubstitutions into a definition that runs', async () => {
    const tableName = await createTable();
    const topicArn = await createTopic();

    const { logicalId, name, definition } = stateMachineFromTemplate(template, 'OrderFlow', { OrdersTable1A2B3C: tableName, AlertsTopic7A8B9C: topicArn });
    const result = await runStateMachine(definition, { orderId: 'o-6' }, { handlers: { Price: () => ({ total: 12 }) } });

    expect({ logicalId, name }).toEqual({ logicalId: 'OrderFlowD1E2F3', name: 'order-flow' });
    const states = definition.States as Record<string, any>;
    expect(states.Price.Resource).toBe('arn:aws:lambda:us-east-1:123456789012:function:PriceFunction4D5E6F');
    expect(states.Save.Resource).toBe('arn:aws:states:::dynamodb:putItem');
    expect(states.Notify.Parameters.TopicArn).toBe(topicArn);
    expect(result).toMatchObject({ status: 'SUCCEEDED', path: ['Price', 'Save', 'Notify'] });
    const saved = await dynamodb.send(new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'o-6' } } }));
    expect(saved.Item?.total).toEqual({ N: '12' });
  });

  it('resolves Fn::Select, Fn::Split and Fn::Sub with the given pseudo parameters', () => {
    const { definition } = stateMachineFromTemplate(
      template,
      { logicalIdPrefix: 'AuditFlow' },
      { 'OrdersTable1A2B3C.StreamArn': 'arn:aws:dynamodb:eu-west-1:111122223333:table/orders/stream/2024-01-01T00:00:00.000' },
      { region: 'eu-west-1', account: '111122223333', partition: 'aws' },
    );

    expect((definition.States as Record<string, any>).Audit.Result).toEqual({
      table: 'orders',
      topic: 'arn:aws:sns:eu-west-1:111122223333:audit-amazonaws.com',
    });
  });

  it('finds every state machine and picks one by StateMachineName', () => {
    const substitutions = {
      OrdersTable1A2B3C: 'orders',
      AlertsTopic7A8B9C: 'arn:aws:sns:us-east-1:123456789012:alerts',
      'OrdersTable1A2B3C.StreamArn': 'arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/x',
    };

    const all = definitionFromTemplate(template, substitutions, { region: 'us-east-1', account: '123456789012' });

    expect(all.map(({ logicalId, name }) => [logicalId, name])).toEqual([
      ['OrderFlowD1E2F3', 'order-flow'],
      ['AuditFlowA9B8C7', 'AuditFlowA9B8C7'],
    ]);
    expect(stateMachineFromTemplate(template, { stateMachineName: 'order-flow' }, substitutions).logicalId).toBe('OrderFlowD1E2F3');
    expect(() => stateMachineFromTemplate(template, 'Flow')).toThrow(
      /No state machine matches "Flow"; the template has: OrderFlowD1E2F3 \(name order-flow\), AuditFlowA9B8C7/,
    );
    expect(() => stateMachineFromTemplate(template, '')).toThrow(/More than one state machine matches/);
  });

  it('throws listing every reference it cannot resolve and the substitution key for each', () => {
    const message = thrownBy(() => definitionFromTemplate(template, {}));

    expect(message).toContain('State machine OrderFlowD1E2F3 (order-flow) has references definitionFromTemplate cannot resolve');
    expect(message).toContain('"OrdersTable1A2B3C": { Ref: OrdersTable1A2B3C } (AWS::DynamoDB::Table)');
    expect(message).toContain('"AlertsTopic7A8B9C": { Ref: AlertsTopic7A8B9C } (AWS::SNS::Topic)');
    expect(message).toContain('State machine AuditFlowA9B8C7');
    expect(message).toContain('"OrdersTable1A2B3C.StreamArn": { Fn::GetAtt: [OrdersTable1A2B3C, StreamArn] } (AWS::DynamoDB::Table)');
    // The Lambda function's ARN is derived, so it needs no substitution.
    expect(message).not.toContain('PriceFunction4D5E6F');
  });
});

import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import { randomBytes } from 'crypto';
import { CreateEventBusCommand, EventBridgeClient, PutEventsCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { RegionRole } from '../../lib/core/region-settings';
import { drEventSource, DrEventType } from '../../lib/observability/dr-event-bus';
import { EventForwarding } from '../../lib/observability/event-forwarding';
import { regionalStack } from '../helpers/stacks';

const { stack, naming, peerRegion } = regionalStack(RegionRole.PRIMARY);
const bus = new events.EventBus(stack, 'Bus', { eventBusName: 'bus-dr-events-use1-dev' });
const queueAge = cloudwatch.Alarm.fromAlarmArn(stack, 'QueueAge', 'arn:aws:cloudwatch:us-east-1:111111111111:alarm:alarm-queue-age-use1-dev');
new EventForwarding(stack, 'Forwarding', { naming, peerRegion, bus, source: drEventSource(naming), processingAlarms: [queueAge] });
const template = Template.fromStack(stack);
const eventbridge = new EventBridgeClient({});
const sqs = new SQSClient({});

function rule(name: string): Record<string, any> {
  const [found] = Object.values(template.findResources('AWS::Events::Rule', { Properties: { Name: name } }));
  expect(found).toBeDefined();
  return found.Properties;
}

/**
 * Whether the synthesized pattern matches an event, decided by moto_server's EventBridge: the
 * pattern goes on a rule with a queue as target, the event is put on the bus, and the queue says
 * whether it was delivered (moto's TestEventPattern answers nothing, so delivery is the test).
 */
async function matches(
  pattern: unknown,
  event: { source: string; 'detail-type': string; detail: Record<string, unknown>; resources?: string[] },
): Promise<boolean> {
  const name = `match-${randomBytes(5).toString('hex')}`;
  await eventbridge.send(new CreateEventBusCommand({ Name: name }));
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  await eventbridge.send(new PutRuleCommand({ Name: name, EventBusName: name, EventPattern: JSON.stringify(pattern) }));
  await eventbridge.send(new PutTargetsCommand({ Rule: name, EventBusName: name, Targets: [{ Id: 'queue', Arn: queueArn }] }));
  const put = await eventbridge.send(
    new PutEventsCommand({
      Entries: [
        { EventBusName: name, Source: event.source, DetailType: event['detail-type'], Detail: JSON.stringify(event.detail), Resources: event.resources },
      ],
    }),
  );
  expect(put.FailedEntryCount ?? 0).toBe(0);
  const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
  return (Messages ?? []).length > 0;
}

describe('event forwarding to the other region', () => {
  const forward = rule('rule-event-forwarding-use1-dev');

  it('sends to the DR bus of the other region, with retries, a dead-letter queue and a role that may only put events there', () => {
    expect(forward.EventBusName).toEqual({ Ref: expect.stringMatching(/^Bus/) });
    const [target] = forward.Targets;
    expect(target.Arn).toBe('arn:aws:events:us-east-2:111111111111:event-bus/bus-dr-events-use2-dev');
    expect(target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 7200, MaximumRetryAttempts: 20 });
    expect(target.DeadLetterConfig.Arn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/DeadLetterQueue/), 'Arn'] });
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) => policy.Properties.PolicyDocument.Statement);
    const putEvents = policies.filter((statement: any) => statement.Action === 'events:PutEvents');
    expect(putEvents).toEqual([expect.objectContaining({ Resource: 'arn:aws:events:us-east-2:111111111111:event-bus/bus-dr-events-use2-dev' })]);
    template.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'sqs-dr-events-dlq-use1-dev', MessageRetentionPeriod: 1209600 });
  });

  it.each([DrEventType.failoverStarted, DrEventType.failoverCompleted, DrEventType.failoverFailed, DrEventType.readinessFailed])(
    'forwards "%s" published in this region',
    async (detailType) => {
      expect(await matches(forward.EventPattern, { source: 'trading-dr.failover', 'detail-type': detailType, detail: { region: 'us-east-1' } })).toBe(true);
    },
  );

  it('does not send back what arrived from the other region (no loop)', async () => {
    // The same event as the other region's forwarding delivers it onto this bus: published there, it names that region.
    expect(
      await matches(forward.EventPattern, { source: 'trading-dr.failover', 'detail-type': DrEventType.failoverCompleted, detail: { region: 'us-east-2' } }),
    ).toBe(false);
  });

  it('forwards nothing of another source or kind', async () => {
    expect(await matches(forward.EventPattern, { source: 'someone.else', 'detail-type': DrEventType.failoverFailed, detail: { region: 'us-east-1' } })).toBe(
      false,
    );
    expect(await matches(forward.EventPattern, { source: 'trading-dr.failover', 'detail-type': 'Something Else', detail: { region: 'us-east-1' } })).toBe(
      false,
    );
  });

  it('forwards state changes of the processing alarms only, from the default bus', async () => {
    const alarms = rule('rule-processing-halted-use1-dev');
    expect(alarms.EventBusName).toBeUndefined();
    const change = { source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change', detail: { state: { value: 'ALARM' } } };
    expect(await matches(alarms.EventPattern, { ...change, resources: ['arn:aws:cloudwatch:us-east-1:111111111111:alarm:alarm-queue-age-use1-dev'] })).toBe(
      true,
    );
    expect(await matches(alarms.EventPattern, { ...change, resources: ['arn:aws:cloudwatch:us-east-1:111111111111:alarm:alarm-api-p99-use1-dev'] })).toBe(
      false,
    );
    expect(alarms.Targets[0].RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 7200, MaximumRetryAttempts: 20 });
  });
});

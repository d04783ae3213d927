import { Match, Template } from 'aws-cdk-lib/assertions';
import { BUNDLE_ALL, synthDeployment } from '../helpers/app';

// The deployment packages are compared, so this synthesis bundles them.
const synthesized = synthDeployment({}, BUNDLE_ALL);
const primary = Template.fromStack(synthesized.deployment.primary.regionalStack);

describe('order processing', () => {
  it('has an encrypted order queue whose visibility is six processor timeouts, redriving to a dead-letter queue', () => {
    primary.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'sqs-orders-use1-dev',
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 180,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('DeadLetterQueue'), 'Arn'] }, maxReceiveCount: 8 },
    });
    primary.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'sqs-orders-dlq-use1-dev', SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    primary.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'fn-order-processor-use1-dev', Timeout: 30 });
  });

  it('refuses plain-HTTP access to both queues', () => {
    const policies = Object.values(primary.findResources('AWS::SQS::QueuePolicy'));
    expect(policies.length).toBeGreaterThanOrEqual(2);
    for (const policy of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      );
    }
  });

  it('feeds the processor with partial batch responses and bounded concurrency', () => {
    primary.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 25,
      MaximumBatchingWindowInSeconds: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 10 },
    });
  });

  it('ships the same deployment package for each function in both regions', () => {
    const codeOf = (template: Record<string, any>) =>
      Object.fromEntries(
        Object.values<any>(template.Resources)
          .filter((resource) => resource.Type === 'AWS::Lambda::Function' && typeof resource.Properties.FunctionName === 'string')
          .map((resource) => [resource.Properties.FunctionName.replace(/-use\d-/, '-'), resource.Properties.Code.S3Key]),
      );
    const [first, second] = [...synthesized.templates.values()];
    const primaryCode = codeOf(first);
    const secondaryCode = codeOf(second);
    for (const name of ['fn-order-intake-dev', 'fn-order-processor-dev', 'fn-health-dev', 'fn-order-lookup-dev']) {
      expect(primaryCode[name]).toMatch(/^[0-9a-f]{64}\.zip$/);
      expect(secondaryCode[name]).toBe(primaryCode[name]);
    }
  });
});

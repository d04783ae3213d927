import { Match, Template } from 'aws-cdk-lib/assertions';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { CfnVolume } from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { applyGuardrails } from '../../lib/core/compliance';
import { newApp } from '../helpers/app';

function guardedStack(): Stack {
  const stack = new Stack(newApp(), 'Guarded', { env: { account: '111111111111', region: 'us-east-1' } });
  applyGuardrails(stack, { environment: 'dev', region: 'us-east-1', application: 'trading-dr' });
  return stack;
}

/** Synthesizes the stack's app and returns the error it stopped with ('' when it succeeded). */
function synthesisError(stack: Stack): string {
  try {
    (stack.node.root as App).synth();
    return '';
  } catch (error) {
    return (error as Error).message;
  }
}

describe('guardrails', () => {
  it('fails synthesis on a retained resource', () => {
    const stack = guardedStack();
    new s3.Bucket(stack, 'Kept', { removalPolicy: RemovalPolicy.RETAIN });
    const error = synthesisError(stack);
    expect(error).toMatch(/DestroyableGuard: AWS::S3::Bucket has DeletionPolicy Retain[^\n]*\n\s*Guarded\/Kept\/Resource/);
    expect(error).toMatch(/DestroyableGuard: AWS::S3::Bucket has UpdateReplacePolicy Retain/);
  });

  it('fails synthesis on a snapshot policy', () => {
    const stack = guardedStack();
    const volume = new CfnVolume(stack, 'Snapshotted', { availabilityZone: 'us-east-1a', size: 1 });
    volume.applyRemovalPolicy(RemovalPolicy.SNAPSHOT);
    expect(synthesisError(stack)).toMatch(/DestroyableGuard: AWS::EC2::Volume has DeletionPolicy Snapshot/);
  });

  it('fails synthesis on deletion protection, on tables and on global table replicas', () => {
    const stack = guardedStack();
    new dynamodb.Table(stack, 'Protected', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    new dynamodb.TableV2(stack, 'ProtectedGlobal', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const error = synthesisError(stack);
    expect(error).toMatch(/AWS::DynamoDB::Table has deletionProtectionEnabled on[^\n]*\n\s*Guarded\/Protected\/Resource/);
    expect(error).toMatch(/a global table replica has deletionProtectionEnabled on[^\n]*\n\s*Guarded\/ProtectedGlobal\/Resource/);
  });

  it('lets a destroyable resource through', () => {
    const stack = guardedStack();
    new s3.Bucket(stack, 'Disposable', { removalPolicy: RemovalPolicy.DESTROY });
    expect(synthesisError(stack)).toBe('');
  });

  it('tags taggable resources with environment, region, application and owner', () => {
    const stack = guardedStack();
    new sqs.Queue(stack, 'Queue', { removalPolicy: RemovalPolicy.DESTROY });
    Template.fromStack(stack).hasResourceProperties('AWS::SQS::Queue', {
      Tags: Match.arrayWith([
        { Key: 'Application', Value: 'trading-dr' },
        { Key: 'Environment', Value: 'dev' },
        { Key: 'ManagedBy', Value: 'aws-cdk' },
        { Key: 'Region', Value: 'us-east-1' },
      ]),
    });
  });
});

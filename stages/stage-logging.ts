import { Aspects, RemovalPolicy, Stack, Stage } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { ProviderLogging } from '../lib/core/compliance';
import { LOG_ENCRYPTION_ID, LogEncryptionKey, LogGroupEncryption } from '../lib/core/log-encryption';
import { Naming, Purpose } from '../lib/core/naming';

/**
 * The logging every stage sets up on its stack: every log group of the stage, CDK's own included,
 * encrypted with the stack's log key; and CDK's own provider functions (default security group,
 * bucket auto-delete, zone delegation) logging to a group the stack owns, not to one Lambda would
 * create and the stack would leave behind. Built into the stack with fixed ids (LogEncryption,
 * ProviderLogs), as the regional stage always has.
 */
export function stageLogging(stage: Stage, stack: Stack, naming: Naming, retention: logs.RetentionDays): void {
  Aspects.of(stage).add(new LogGroupEncryption(new LogEncryptionKey(stack, LOG_ENCRYPTION_ID, { naming })));
  const providerLogs = new logs.LogGroup(stack, 'ProviderLogs', {
    logGroupName: `/aws/lambda/${naming.name('logGroup', Purpose.cdkProviders)}`,
    retention,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  Aspects.of(stack).add(new ProviderLogging(providerLogs));
}

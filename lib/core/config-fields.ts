import type * as logs from 'aws-cdk-lib/aws-logs';
import { z } from 'zod';
import { kindRule, maxSuffixLength } from './naming';

/**
 * The kinds of value the configuration schema (config.ts) is made of: `-c` strings turned into
 * numbers and lists, the formats of regions, names and CIDR blocks, and CIDR arithmetic.
 */

/** CloudWatch Logs accepts only these retention periods (PutRetentionPolicy). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

export const REGION = /^[a-z]{2}(-gov)?-(north|south|east|west|central|northeast|southeast|northwest|southwest)-\d$/;
export const SUFFIX = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$/;
export const APP_NAME = /^[a-z][a-z0-9-]*[a-z0-9]$/;
export const HOSTNAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
export const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
export const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const HOSTED_ZONE_ID = /^Z[A-Z0-9]{1,31}$/;
export const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** Unset when absent or empty: `-c key=` says "not set". */
export function emptyAsUnset<T extends z.ZodType>(schema: T): z.ZodType<z.infer<T> | undefined> {
  return z.preprocess((value) => (value === '' ? undefined : value), schema.optional()) as z.ZodType<z.infer<T> | undefined>;
}

/** A lower-case DNS name; the message names `example`. */
export function dnsName(example: string): z.ZodString {
  return z.string().regex(HOSTNAME, `must be a lower-case DNS name such as ${example}`);
}

/** One DNS label (a host name's first part); the message names `example`. */
export function dnsLabel(example: string): z.ZodString {
  return z.string().regex(DNS_LABEL, `must be one DNS label such as ${example}`);
}

/** A Route 53 hosted zone id. */
export function hostedZoneId(): z.ZodString {
  return z.string().regex(HOSTED_ZONE_ID, 'must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ');
}

/** `-c` values arrive as strings; lists may be written `a,b,c` or as a JSON array. */
export function stringList(): z.ZodType<string[]> {
  return z.preprocess((value) => {
    if (typeof value !== 'string') return value;
    const trimmed = value.trim();
    if (trimmed.startsWith('[')) {
      try {
        return JSON.parse(trimmed);
      } catch {
        // Not JSON after all: let the array schema report the original string as the wrong type.
        return value;
      }
    }
    return trimmed === '' ? [] : trimmed.split(',').map((item) => item.trim());
  }, z.array(z.string())) as z.ZodType<string[]>;
}

/** `-c` numbers arrive as strings; an empty or non-numeric string must fail, not become 0. */
export function integer(min: number, max: number): z.ZodType<number> {
  return z.preprocess(
    (value) => (typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value),
    z.number({ error: 'must be a whole number' }).int('must be a whole number').min(min, `must be at least ${min}`).max(max, `must be at most ${max}`),
  ) as z.ZodType<number>;
}

/** A CloudWatch Logs retention period, resolved once here to the type constructs take (RetentionDays' values are the days). */
export function retentionDays(): z.ZodType<logs.RetentionDays, number> {
  return integer(1, 3653).refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
    message: `must be one of the CloudWatch Logs retention periods (${LOG_RETENTION_DAYS.join(', ')})`,
  }) as unknown as z.ZodType<logs.RetentionDays, number>;
}

export function region(): z.ZodString {
  return z.string().regex(REGION, 'must be an AWS region name such as us-east-1');
}

export function cidr(): z.ZodString {
  return z.string().refine((value) => parseCidr(value) !== undefined, {
    message: 'must be an IPv4 CIDR block between /16 and /24 with no host bits set, such as 10.10.0.0/16',
  }) as unknown as z.ZodString;
}

const suffixLimit = maxSuffixLength();

/** An environment suffix: it ends every physical name, so its length is bounded by the tightest name. */
export function suffixSchema(): z.ZodString {
  return z
    .string()
    .min(1, 'must not be empty')
    .max(suffixLimit.length, `must be at most ${suffixLimit.length} characters (the longest name is limited by: ${kindRule(suffixLimit.limitedBy)})`)
    .regex(SUFFIX, 'must use only a-z, 0-9 and single hyphens inside (no upper case, no "_", no "--", no leading or trailing hyphen)');
}

export interface ParsedCidr {
  readonly network: number;
  readonly prefix: number;
}

/** Parses an IPv4 CIDR block with a /16 to /24 prefix and no host bits; undefined if it is not one. */
export function parseCidr(value: string): ParsedCidr | undefined {
  const match = CIDR.exec(value);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((octet) => octet > 255) || prefix < 16 || prefix > 24) return undefined;
  const network = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
  const hostMask = 2 ** (32 - prefix) - 1;
  if ((network & hostMask) !== 0) return undefined;
  return { network, prefix };
}

/** True when two CIDR blocks share any address. */
export function cidrsOverlap(a: ParsedCidr, b: ParsedCidr): boolean {
  const shorter = Math.min(a.prefix, b.prefix);
  const mask = shorter === 0 ? 0 : (0xffffffff << (32 - shorter)) >>> 0;
  return (a.network & mask) >>> 0 === (b.network & mask) >>> 0;
}

/** Where Route 53 runs health checkers (HealthCheckConfig.Regions). */
export const ROUTE53_CHECKER_REGIONS = [
  'us-east-1',
  'us-west-1',
  'us-west-2',
  'eu-west-1',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-northeast-1',
  'sa-east-1',
] as const;

/**
 * DynamoDB's region sets for multi-region strong consistency: the two replicas and the witness
 * must all be in one set.
 */
export const MRSC_REGION_SETS: readonly (readonly string[])[] = [
  ['us-east-1', 'us-east-2', 'us-west-2'],
  ['eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-central-1'],
  ['ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3'],
];

/** `true` or `false`, as a boolean or as the text `-c key=value` gives. */
export function flag() {
  return z.preprocess((value) => (value === 'true' ? true : value === 'false' ? false : value), z.boolean({ error: 'must be true or false' }));
}

import { z } from 'zod';
import { dnsLabel, dnsName, emptyAsUnset, hostedZoneId, ROLE_ARN } from './config-fields';
import { separateEnvironmentAccounts } from './config-accounts';

/**
 * Where each environment's API names live: production's zone (`domainName`, `hostedZoneId`,
 * `apiSubdomain` in config.ts), the pipeline's test environment's, and the delegation of an
 * environment's own zone from a parent zone in another account (a shared networking account, as
 * landing zones have it). Part of the one config schema (`lib/core/config.ts` spreads these fields
 * into it and runs `checkDns` with its other cross-field rules).
 */

export const DNS_FIELDS = {
  /**
   * The test environment's API host label (`{testApiSubdomain}.{testDomainName}`). In one account
   * and one zone with production, it must differ from `apiSubdomain`: their failover records and
   * certificates would collide.
   */
  testApiSubdomain: dnsLabel('api-test').default('api-test'),
  /**
   * The test environment's zone. Unset: `domainName`, the zone production uses, which only works
   * while both environments share an account; with their own accounts, each needs its own zone.
   */
  testDomainName: emptyAsUnset(dnsName('trading-test.example.com')),
  /** An existing public hosted zone for `testDomainName`, in the test account. Unset: `hostedZoneId` when the zone is shared, else the test stage creates its zone. */
  testHostedZoneId: emptyAsUnset(hostedZoneId()),
  /**
   * The parent zone, usually in a shared networking account, that delegates each environment's
   * zone. Set with `parentZoneName` and `dnsDelegationRoleArn`: each environment's primary stage
   * then creates its zone in its own account and writes the zone's NS record into this one.
   */
  parentHostedZoneId: emptyAsUnset(hostedZoneId()),
  /** The parent zone's DNS name: every environment's zone must lie below it. */
  parentZoneName: emptyAsUnset(dnsName('example.com')),
  /**
   * The role, in the parent zone's account, that may write the delegation (NS) records into the
   * parent zone (README, "Three accounts"). Only the deploy-time delegation uses it; no failover
   * step does.
   */
  dnsDelegationRoleArn: emptyAsUnset(z.string().regex(ROLE_ARN, 'must be an IAM role ARN such as arn:aws:iam::444455556666:role/dns-delegation')),
};

interface DnsKeys {
  readonly account: string;
  readonly deployment: 'direct' | 'pipeline';
  readonly testAccount?: string;
  readonly productionAccount?: string;
  readonly testEnvironmentSuffix: string;
  readonly productionEnvironmentSuffix: string;
  readonly domainName: string;
  readonly hostedZoneId?: string;
  readonly apiSubdomain: string;
  readonly testApiSubdomain: string;
  readonly testDomainName?: string;
  readonly testHostedZoneId?: string;
  readonly parentHostedZoneId?: string;
  readonly parentZoneName?: string;
  readonly dnsDelegationRoleArn?: string;
}

/** Where one environment's API names live. */
export interface EnvironmentDns {
  readonly domainName: string;
  readonly hostedZoneId?: string;
  readonly apiSubdomain: string;
}

/** The zone delegation from a parent zone in another account, when configured. */
export interface ZoneDelegation {
  readonly parentHostedZoneId: string;
  readonly parentZoneName: string;
  readonly roleArn: string;
}

/** The delegation, or undefined when its keys are unset (the validation requires all or none). */
export function zoneDelegation(config: DnsKeys): ZoneDelegation | undefined {
  const { parentHostedZoneId, parentZoneName, dnsDelegationRoleArn } = config;
  if (parentHostedZoneId === undefined || parentZoneName === undefined || dnsDelegationRoleArn === undefined) return undefined;
  return { parentHostedZoneId, parentZoneName, roleArn: dnsDelegationRoleArn };
}

/** The test environment's zone name: `testDomainName`, else production's `domainName`. */
function testDomain(config: DnsKeys): string {
  return config.testDomainName ?? config.domainName;
}

/** True when the test environment uses production's zone (same account, same name). */
function sharesZone(config: DnsKeys): boolean {
  return !separateEnvironmentAccounts(config) && testDomain(config) === config.domainName;
}

/** The pipeline's test environment's names: its own zone, or production's zone shared in one account. */
export function testEnvironmentDns(config: DnsKeys): EnvironmentDns {
  return {
    domainName: testDomain(config),
    hostedZoneId: config.testHostedZoneId ?? (sharesZone(config) ? config.hostedZoneId : undefined),
    apiSubdomain: config.testApiSubdomain,
  };
}

/** The cross-field rules of these keys, as `key: rule` issues. */
export function checkDns(config: DnsKeys, ctx: z.RefinementCtx): void {
  const issue = (key: string, message: string) => ctx.addIssue({ code: 'custom', path: [key], message });
  if (sharesZone(config) && config.testApiSubdomain === config.apiSubdomain) {
    issue(
      'testApiSubdomain',
      `must differ from apiSubdomain (both are ${config.apiSubdomain}): the test environment's records and certificate would collide with production's`,
    );
  }
  if (separateEnvironmentAccounts(config) && testDomain(config) === config.domainName) {
    issue(
      'testDomainName',
      `must be set, and differ from domainName (${config.domainName}), when test and production have their own accounts: each account needs its own zone`,
    );
  }
  const delegationKeys = ['parentHostedZoneId', 'parentZoneName', 'dnsDelegationRoleArn'] as const;
  const set = delegationKeys.filter((key) => config[key] !== undefined);
  if (set.length > 0 && set.length < delegationKeys.length) {
    for (const key of delegationKeys.filter((each) => config[each] === undefined)) {
      issue(key, `must be set with ${set.join(' and ')}: a delegation needs the parent zone's id, its name and the role that writes into it`);
    }
  }
  const delegation = zoneDelegation(config);
  if (delegation === undefined) return;
  if (config.deployment === 'pipeline' && testDomain(config) === config.domainName) {
    issue('testDomainName', `must be set, and differ from domainName (${config.domainName}), with a delegation: each environment delegates its own zone`);
  }
  for (const [key, zoneKey, name, zoneId] of [
    ['domainName', 'hostedZoneId', config.domainName, config.hostedZoneId],
    ['testDomainName', 'testHostedZoneId', testDomain(config), config.testHostedZoneId],
  ] as const) {
    if (!name.endsWith(`.${delegation.parentZoneName}`)) {
      issue(key, `must lie below parentZoneName (${delegation.parentZoneName}): the delegation writes ${name}'s NS record into that zone`);
    }
    if (zoneId !== undefined) {
      issue(zoneKey, 'must be unset with a delegation: the environment creates its own zone and the parent zone delegates to it');
    }
  }
}

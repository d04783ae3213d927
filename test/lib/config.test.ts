import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { ConfigError, CONFIG_KEYS, loadConfig, parseConfig } from '../../lib/core/config';
import { RegionRole, regionSettings } from '../../lib/core/region-settings';
import { problemsOf } from '../helpers/config-problems';

describe('config', () => {
  it('gives working defaults with no context at all', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      environmentSuffix: 'dev',
      account: '111111111111',
      primaryRegion: 'us-east-1',
      secondaryRegion: 'us-east-2',
      domainName: 'trading.example.com',
    });
    expect(config.alertEmail).toBeUndefined();
  });

  it('reads every key from context, with -c strings coerced to their types', () => {
    const app = new App({
      context: {
        environmentSuffix: 'qa-2',
        flowLogRetentionDays: '30',
        primaryAvailabilityZones: 'us-east-1a,us-east-1d',
        secondaryAvailabilityZones: '["us-east-2b","us-east-2c"]',
        alertEmail: 'sre@example.com',
      },
    });
    const config = loadConfig(app.node);
    expect(config.environmentSuffix).toBe('qa-2');
    expect(config.flowLogRetentionDays).toBe(30);
    expect(config.primaryAvailabilityZones).toEqual(['us-east-1a', 'us-east-1d']);
    expect(config.secondaryAvailabilityZones).toEqual(['us-east-2b', 'us-east-2c']);
    expect(config.alertEmail).toBe('sre@example.com');
  });

  it.each([
    ['upper case and symbols', 'Bad_Suffix!'],
    ['a leading hyphen', '-dev'],
    ['a trailing hyphen', 'dev-'],
    ['a double hyphen', 'dev--1'],
  ])('refuses a suffix with %s', (_case, environmentSuffix) => {
    expect(problemsOf({ environmentSuffix })).toEqual([expect.stringMatching(/^environmentSuffix: must use only a-z, 0-9 and single hyphens/)]);
  });

  it('refuses a suffix too long for the longest name (an S3 bucket name)', () => {
    expect(problemsOf({ environmentSuffix: 'a'.repeat(21) })).toEqual([
      expect.stringMatching(/^environmentSuffix: must be at most 20 characters \(the longest name is limited by: S3 bucket names/),
    ]);
    expect(() => parseConfig({ environmentSuffix: 'a'.repeat(20) })).not.toThrow();
  });

  it('refuses the same region twice', () => {
    const problems = problemsOf({ secondaryRegion: 'us-east-1', secondaryAvailabilityZones: 'us-east-1a,us-east-1b' });
    expect(problems).toEqual(['secondaryRegion: must differ from primaryRegion (both are us-east-1)']);
  });

  it("refuses a test API name equal to production's (both environments share the zone)", () => {
    expect(problemsOf({ testApiSubdomain: 'api' })).toEqual([expect.stringMatching(/^testApiSubdomain: must differ from apiSubdomain \(both are api\)/)]);
    expect(problemsOf({ apiSubdomain: 'orders', testApiSubdomain: 'orders' })).toEqual([
      expect.stringMatching(/^testApiSubdomain: must differ from apiSubdomain \(both are orders\)/),
    ]);
    expect(problemsOf({ testApiSubdomain: 'Api_Test' })).toEqual(['testApiSubdomain: must be one DNS label such as api-test']);
  });

  it('refuses overlapping VPC CIDRs', () => {
    expect(problemsOf({ secondaryVpcCidr: '10.10.128.0/17' })).toEqual([expect.stringMatching(/^secondaryVpcCidr: must not overlap primaryVpcCidr/)]);
  });

  it('refuses a CIDR that is malformed or has host bits set', () => {
    expect(problemsOf({ primaryVpcCidr: '10.10.0.1/16' })).toEqual([expect.stringMatching(/^primaryVpcCidr: must be an IPv4 CIDR block/)]);
    expect(problemsOf({ primaryVpcCidr: '300.1.0.0/16' })).toEqual([expect.stringMatching(/^primaryVpcCidr: must be an IPv4 CIDR block/)]);
  });

  it('refuses a VPC too small for its subnets', () => {
    expect(problemsOf({ primaryVpcCidr: '10.10.0.0/21' })).toEqual([
      'primaryVpcCidr: is too small for 3 app /22 and 3 data /24 subnets (3840 addresses needed, 2048 available)',
    ]);
    expect(() => parseConfig({ primaryVpcCidr: '10.10.0.0/20' })).not.toThrow();
  });

  it('refuses a malformed account id', () => {
    expect(problemsOf({ account: '12345' })).toEqual(['account: must be a 12-digit AWS account id']);
  });

  it('refuses a malformed e-mail and accepts an empty one as none', () => {
    expect(problemsOf({ alertEmail: 'sre-at-example' })).toEqual(['alertEmail: must be an e-mail address such as sre@example.com']);
    expect(parseConfig({ alertEmail: '' }).alertEmail).toBeUndefined();
  });

  it('refuses availability zones of another region, too few, or repeated', () => {
    expect(problemsOf({ primaryAvailabilityZones: 'us-east-2a,us-east-1b' })).toEqual([
      'primaryAvailabilityZones: must be zones of us-east-1 such as us-east-1a (got us-east-2a)',
    ]);
    expect(problemsOf({ primaryAvailabilityZones: 'us-east-1a' })).toEqual([
      'primaryAvailabilityZones: must list at least 2 availability zones (Aurora needs subnets in two)',
    ]);
    expect(problemsOf({ primaryAvailabilityZones: 'us-east-1a,us-east-1a' })).toEqual(['primaryAvailabilityZones: must not list a zone twice']);
  });

  it('refuses a retention CloudWatch Logs does not offer, and a number that is not one', () => {
    expect(problemsOf({ flowLogRetentionDays: '8' })).toEqual([
      expect.stringMatching(/^flowLogRetentionDays: must be one of the CloudWatch Logs retention periods/),
    ]);
    expect(problemsOf({ logRetentionDays: 'thirty' })).toEqual(['logRetentionDays: must be a whole number']);
  });

  it('reports every problem at once, one line each', () => {
    const error = (() => {
      try {
        parseConfig({ environmentSuffix: 'Bad_Suffix!', account: 'x' });
      } catch (caught) {
        return caught as ConfigError;
      }
      throw new Error('accepted');
    })();
    expect(error.problems).toHaveLength(2);
    expect(error.message.split('\n')).toEqual([
      'Invalid configuration:',
      expect.stringMatching(/^ {2}environmentSuffix: /),
      '  account: must be a 12-digit AWS account id',
    ]);
  });

  it("resolves each role's own region and its peer", () => {
    const config = parseConfig({});
    expect(regionSettings(config, RegionRole.PRIMARY)).toMatchObject({
      region: 'us-east-1',
      peerRegion: 'us-east-2',
      vpcCidr: '10.10.0.0/16',
      peerVpcCidr: '10.20.0.0/16',
    });
    expect(regionSettings(config, RegionRole.SECONDARY)).toMatchObject({
      region: 'us-east-2',
      peerRegion: 'us-east-1',
      vpcCidr: '10.20.0.0/16',
      peerVpcCidr: '10.10.0.0/16',
    });
  });

  it('lists every key in the schema', () => {
    expect(CONFIG_KEYS).toEqual(expect.arrayContaining(['environmentSuffix', 'account', 'primaryVpcCidr', 'alertEmail']));
  });
});

describe('the README', () => {
  it('documents every config key in its configuration table', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    for (const key of CONFIG_KEYS) {
      expect({ key, documented: readme.includes(`| \`${key}\` |`) }).toEqual({ key, documented: true });
    }
  });
});

describe('multi-region strong consistency', () => {
  it("refuses a witness outside the regions' strong-consistency set", () => {
    expect(() => parseConfig({ witnessRegion: 'eu-west-1' })).toThrow(
      /witnessRegion: must form, with primaryRegion and secondaryRegion, one DynamoDB strong-consistency region set/,
    );
  });

  it('accepts another complete set', () => {
    const config = parseConfig({
      primaryRegion: 'eu-west-1',
      secondaryRegion: 'eu-central-1',
      witnessRegion: 'eu-west-2',
      primaryAvailabilityZones: 'eu-west-1a,eu-west-1b',
      secondaryAvailabilityZones: 'eu-central-1a,eu-central-1b',
    });
    expect(config.witnessRegion).toBe('eu-west-2');
  });
});

describe('failover settings', () => {
  it('defaults to automatic failback, checkers outside both regions and the writer in the primary region', () => {
    const config = parseConfig({});
    expect(config.autoFailback).toBe(true);
    expect(config.healthCheckRegions).toEqual(['us-west-1', 'us-west-2', 'eu-west-1']);
    expect(config.writerRegion).toBeUndefined();
  });

  it('reads -c strings for the failover keys', () => {
    const config = parseConfig({
      autoFailback: 'false',
      healthCheckRegions: 'us-east-1,eu-west-1,sa-east-1',
      writerRegion: 'us-east-2',
      probeFailureThreshold: '5',
    });
    expect(config.autoFailback).toBe(false);
    expect(config.healthCheckRegions).toEqual(['us-east-1', 'eu-west-1', 'sa-east-1']);
    expect(config.writerRegion).toBe('us-east-2');
    expect(config.probeFailureThreshold).toBe(5);
  });

  it('refuses fewer than three checker regions, or a region Route 53 has no checkers in', () => {
    expect(problemsOf({ healthCheckRegions: 'us-west-1,eu-west-1' })).toEqual(['healthCheckRegions: must name at least three Route 53 checker regions']);
    expect(problemsOf({ healthCheckRegions: 'us-west-1,eu-west-1,us-east-2' })).toEqual([
      expect.stringMatching(/^healthCheckRegions\.2: must be Route 53 checker regions \(us-east-1, us-west-1/),
    ]);
  });

  it('refuses a writer region outside the deployment, and an autoFailback that is not a boolean', () => {
    expect(problemsOf({ writerRegion: 'eu-west-1' })).toEqual(['writerRegion: must be primaryRegion (us-east-1) or secondaryRegion (us-east-2)']);
    expect(problemsOf({ autoFailback: 'yes' })).toEqual(['autoFailback: must be true or false']);
  });

  it("defaults the budget's settings to a 45 s traffic budget: threshold 2, TTL 5, propagation 10, calculated check 4", () => {
    expect(parseConfig({})).toMatchObject({
      healthCheckIntervalSeconds: 10,
      healthCheckFailureThreshold: 2,
      dnsTtlSeconds: 5,
      dnsPropagationAllowanceSeconds: 10,
      calculatedCheckAllowanceSeconds: 4,
      alarmEvaluationAllowanceSeconds: 60,
      failoverTargetSeconds: 60,
    });
  });

  it("reads -c strings for the budget's allowances and refuses them out of range", () => {
    expect(parseConfig({ calculatedCheckAllowanceSeconds: '2', alarmEvaluationAllowanceSeconds: '90' })).toMatchObject({
      calculatedCheckAllowanceSeconds: 2,
      alarmEvaluationAllowanceSeconds: 90,
    });
    expect(problemsOf({ calculatedCheckAllowanceSeconds: '-1', alarmEvaluationAllowanceSeconds: '601' })).toEqual([
      'calculatedCheckAllowanceSeconds: must be at least 0',
      'alarmEvaluationAllowanceSeconds: must be at most 600',
    ]);
  });

  it('refuses a traffic budget over failoverTargetSeconds, naming every term of the sum', () => {
    expect(problemsOf({ failoverTargetSeconds: '44' })).toEqual([
      'failoverTargetSeconds: is exceeded by the traffic failover budget: healthCheckIntervalSeconds 10 × healthCheckFailureThreshold 2 + Route 53 connect timeout 4 + ' +
        'Route 53 response timeout 2 + calculatedCheckAllowanceSeconds 4 + dnsTtlSeconds 5 + dnsPropagationAllowanceSeconds 10 = 45 s > 44 s',
    ]);
  });

  it('refuses a promotion timeout shorter than the expected promotion', () => {
    expect(problemsOf({ auroraPromotionSeconds: 300, promotionTimeoutSeconds: 200 })).toEqual([
      'promotionTimeoutSeconds: must be at least auroraPromotionSeconds (300): the orchestrator would give up before a promotion is expected to end',
    ]);
  });
});

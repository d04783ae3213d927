import { Stack } from 'aws-cdk-lib';
import { AwsCallSupport } from '../../lib/core/aws-call-support';
import { parseConfig } from '../../lib/core/config';
import { RegionRole } from '../../lib/core/region-settings';
import { Naming } from '../../lib/core/naming';
import { Network } from '../../lib/network/network';
import { RegionalStack } from '../../stages/regional-stack';
import { newApp } from './app';

export const ACCOUNT = '111111111111';
/** The app's config with every default: what a construct gets when nothing is set. */
export const DEFAULT_CONFIG = parseConfig({});

/** A regional stack with a network, for testing one construct without the whole app. */
export function regionalStack(role: RegionRole): { stack: Stack; naming: Naming; network: Network; peerRegion: string; cidr: string; peerCidr: string } {
  const region = role === RegionRole.PRIMARY ? 'us-east-1' : 'us-east-2';
  const peerRegion = role === RegionRole.PRIMARY ? 'us-east-2' : 'us-east-1';
  const cidr = role === RegionRole.PRIMARY ? '10.10.0.0/16' : '10.20.0.0/16';
  const peerCidr = role === RegionRole.PRIMARY ? '10.20.0.0/16' : '10.10.0.0/16';
  const stack = new RegionalStack(newApp(), `Test-${role}`, {
    env: { account: ACCOUNT, region },
    availabilityZones: [`${region}a`, `${region}b`, `${region}c`],
  });
  const naming = new Naming({ appName: 'trading-dr', environmentSuffix: 'dev', account: ACCOUNT, region });
  AwsCallSupport.create(stack, { naming, logRetention: DEFAULT_CONFIG.logRetentionDays });
  const network = new Network(stack, 'Network', { naming, cidr, config: DEFAULT_CONFIG });
  return { stack, naming, network, peerRegion, cidr, peerCidr };
}

import type { AppConfig } from './config';

/** The role a region plays in normal operation. */
export enum RegionRole {
  PRIMARY = 'primary',
  SECONDARY = 'secondary',
}

/** Everything a stage needs to know about its own region and its peer. */
export interface RegionSettings {
  readonly role: RegionRole;
  readonly region: string;
  readonly peerRegion: string;
  readonly vpcCidr: string;
  readonly peerVpcCidr: string;
  readonly availabilityZones: string[];
  readonly peerAvailabilityZones: string[];
}

/** Resolves the per-region view of the config for one role. */
export function regionSettings(config: AppConfig, role: RegionRole): RegionSettings {
  const primary = {
    region: config.primaryRegion,
    vpcCidr: config.primaryVpcCidr,
    availabilityZones: config.primaryAvailabilityZones,
  };
  const secondary = {
    region: config.secondaryRegion,
    vpcCidr: config.secondaryVpcCidr,
    availabilityZones: config.secondaryAvailabilityZones,
  };
  const [own, peer] = role === RegionRole.PRIMARY ? [primary, secondary] : [secondary, primary];
  return {
    role,
    region: own.region,
    peerRegion: peer.region,
    vpcCidr: own.vpcCidr,
    peerVpcCidr: peer.vpcCidr,
    availabilityZones: own.availabilityZones,
    peerAvailabilityZones: peer.availabilityZones,
  };
}

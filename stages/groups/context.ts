import type { Stack } from 'aws-cdk-lib';
import type { AppConfig } from '../../lib/core/config';
import type { RegionRole, RegionSettings } from '../../lib/core/region-settings';
import type { Naming } from '../../lib/core/naming';
import type { RegionalParameters } from '../../lib/core/regional-parameters';

/**
 * What every capability group of a region's stage builds with. The groups add their constructs
 * straight to the regional stack, not under a construct of their own: a level more would change
 * every logical id, and CloudFormation cannot replace the resources whose names are fixed.
 */
export interface StageContext {
  readonly stack: Stack;
  readonly config: AppConfig;
  readonly role: RegionRole;
  readonly settings: RegionSettings;
  readonly naming: Naming;
  /** This region's SSM parameters, where groups publish what the peer region or an operator needs. */
  readonly parameters: RegionalParameters;
  /** `api.<zone>`, the name clients call. */
  readonly apiHostName: string;
}

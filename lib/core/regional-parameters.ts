import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { Naming, ParameterKey, ParameterKeyName } from './naming';
import { RegionRole } from './region-settings';

export interface RegionalParametersProps {
  /** Names for this region's resources. */
  readonly naming: Naming;
  /** The role this region plays in normal operation. */
  readonly role: RegionRole;
  /** The other region of the deployment. */
  readonly peerRegion: string;
}

/**
 * This region's configuration in SSM Parameter Store under `/{app}/{suffix}/...`. Capabilities
 * publish the values the other region (or an operator) needs through `publish`, so every
 * parameter path is built by the naming helper from a `ParameterKey`.
 */
export class RegionalParameters extends Construct {
  private readonly naming: Naming;

  constructor(scope: Construct, id: string, props: RegionalParametersProps) {
    super(scope, id);
    this.naming = props.naming;
    this.publish(ParameterKey.regionRole, props.role, 'The role this region plays in normal operation (primary or secondary)');
    this.publish(ParameterKey.peerRegion, props.peerRegion, 'The other region of this deployment');
  }

  /** Writes one value under this deployment's prefix. */
  public publish(key: ParameterKeyName, value: string, description: string): ssm.IStringParameter {
    return new ssm.StringParameter(this, this.constructIdFor(key), {
      parameterName: this.naming.parameterName(key),
      stringValue: value,
      description,
      tier: ssm.ParameterTier.STANDARD,
    });
  }

  /** `network/vpc-id` -> `NetworkVpcId`: stable, readable construct ids derived from the key. */
  private constructIdFor(key: ParameterKeyName): string {
    return key
      .split(/[/-]/)
      .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
      .join('');
  }
}

import { Stack, StackProps, Validations } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

export interface RegionalStackProps extends StackProps {
  /**
   * The availability zones of this stack's region, from config. Given explicitly so synth never
   * asks the account for them (an environment-specific stack otherwise does a context lookup).
   */
  readonly availabilityZones: string[];
}

/** A deployment unit for one region's resources; it holds no logic (the stage composes). */
export class RegionalStack extends Stack {
  private readonly configuredAvailabilityZones: string[];

  constructor(scope: Construct, id: string, props: RegionalStackProps) {
    super(scope, id, props);
    this.configuredAvailabilityZones = props.availabilityZones;
    Validations.of(this).acknowledge({
      id: 'CloudFormation-Validate::W3010',
      reason: 'Availability zones are named in config on purpose: synth must not look them up in the account',
    });
  }

  public override get availabilityZones(): string[] {
    return this.configuredAvailabilityZones;
  }
}

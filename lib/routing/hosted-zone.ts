import { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import type { ZoneDelegation } from '../core/config-dns';
import { RegionRole } from '../core/region-settings';
import { Naming, ParameterKey } from '../core/naming';
import { PeerParameter } from '../core/peer-parameter';

export interface ApiHostedZoneProps {
  /** Names for this region's resources. */
  readonly naming: Naming;
  /** The primary stage creates the zone when none is given; the secondary reads its id. */
  readonly role: RegionRole;
  /** The other region of the deployment. */
  readonly peerRegion: string;
  /** The zone's DNS name (`domainName` in config). */
  readonly zoneName: string;
  /** An existing zone to use. @default - the primary stage creates a public zone */
  readonly hostedZoneId?: string;
  /**
   * The parent zone (in another account) that delegates the created zone, and the role there that
   * writes the delegation. @default - none: delegate the created zone by hand
   */
  readonly delegation?: ZoneDelegation;
}

/**
 * The public hosted zone the API's names live in. With `hostedZoneId` from config (the normal
 * case: a zone already delegated to Route 53, so ACM can validate certificates in it) both
 * stages import it. Without, the primary stage creates the zone and publishes its id to SSM,
 * and the secondary stage reads it from there: the zone id is not deterministic. With a
 * delegation, the primary stage also writes the created zone's NS record into the parent zone, as
 * the parent account's role (CDK's CrossAccountZoneDelegationRecord, a deploy-time custom
 * resource): the records, health checks and certificates stay in this account, and no failover
 * step needs the parent's.
 */
export class ApiHostedZone extends Construct {
  /** The zone. */
  public readonly zone: route53.IHostedZone;
  /** True when this stage created the zone (and must publish its id). */
  public readonly created: boolean;

  constructor(scope: Construct, id: string, props: ApiHostedZoneProps) {
    super(scope, id);
    if (props.hostedZoneId) {
      this.zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', { hostedZoneId: props.hostedZoneId, zoneName: props.zoneName });
      this.created = false;
    } else if (props.role === RegionRole.PRIMARY) {
      const zone = new route53.PublicHostedZone(this, 'Zone', {
        zoneName: props.zoneName,
        comment: `API names of ${props.naming.parameterPrefix()}; delegate ${props.zoneName} to its name servers`,
      });
      zone.applyRemovalPolicy(RemovalPolicy.DESTROY);
      if (props.delegation) {
        new route53.CrossAccountZoneDelegationRecord(this, 'Delegation', {
          delegatedZone: zone,
          parentHostedZoneId: props.delegation.parentHostedZoneId,
          delegationRole: iam.Role.fromRoleArn(this, 'DelegationRole', props.delegation.roleArn, { mutable: false }),
          removalPolicy: RemovalPolicy.DESTROY,
        });
      }
      this.zone = zone;
      this.created = true;
    } else {
      const hostedZoneId = new PeerParameter(this, 'PeerZoneId', { naming: props.naming, peerRegion: props.peerRegion, key: ParameterKey.hostedZoneId }).value;
      this.zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', { hostedZoneId, zoneName: props.zoneName });
      this.created = false;
    }
  }
}

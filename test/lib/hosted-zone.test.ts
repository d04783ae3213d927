import { Template } from 'aws-cdk-lib/assertions';
import { RegionRole } from '../../lib/core/region-settings';
import { ApiHostedZone } from '../../lib/routing/hosted-zone';
import { regionalStack } from '../helpers/stacks';

function zoneFor(role: RegionRole, hostedZoneId?: string) {
  const { stack, naming, peerRegion } = regionalStack(role);
  const zone = new ApiHostedZone(stack, 'HostedZone', { naming, role, peerRegion, zoneName: 'trading.example.com', hostedZoneId });
  return { zone, template: Template.fromStack(stack), stack };
}

describe('API hosted zone', () => {
  it('imports a configured zone in both regions and creates nothing', () => {
    for (const role of [RegionRole.PRIMARY, RegionRole.SECONDARY]) {
      const { zone, template, stack } = zoneFor(role, 'Z0123456789ABCDEFGHIJ');
      expect(zone.created).toBe(false);
      expect(stack.resolve(zone.zone.hostedZoneId)).toBe('Z0123456789ABCDEFGHIJ');
      template.resourceCountIs('AWS::Route53::HostedZone', 0);
      template.resourceCountIs('Custom::PeerParameter', 0);
    }
  });

  it('creates the zone in the primary when none is configured, destroyable', () => {
    const { zone, template } = zoneFor(RegionRole.PRIMARY);
    expect(zone.created).toBe(true);
    template.hasResource('AWS::Route53::HostedZone', { Properties: { Name: 'trading.example.com.' }, DeletionPolicy: 'Delete' });
  });

  it("reads the primary's zone id from SSM in us-east-1 in the secondary", () => {
    const { zone, template, stack } = zoneFor(RegionRole.SECONDARY);
    expect(zone.created).toBe(false);
    template.resourceCountIs('AWS::Route53::HostedZone', 0);
    expect(JSON.stringify(stack.resolve(zone.zone.hostedZoneId))).toMatch(/PeerZoneIdReader.*Parameter\.Value/);
  });
});

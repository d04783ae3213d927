import { Template } from 'aws-cdk-lib/assertions';
import { synthDeployment } from '../helpers/app';

/**
 * Deploying after a failover: config says the writer is in us-east-2 now. The templates must not
 * touch the database resources (an update could try to undo the failover, and a global cluster's
 * members cannot be changed by CloudFormation), only move what follows the writer.
 */
const normal = synthDeployment();
const afterFailover = synthDeployment({ writerRegion: 'us-east-2' });

const templates = {
  normal: { primary: Template.fromStack(normal.deployment.primary.regionalStack), secondary: Template.fromStack(normal.deployment.secondary.regionalStack) },
  afterFailover: {
    primary: Template.fromStack(afterFailover.deployment.primary.regionalStack),
    secondary: Template.fromStack(afterFailover.deployment.secondary.regionalStack),
  },
};

// The database's KMS key is left out on purpose: its policy loses the migration role when the
// migration moves, an in-place policy update that touches neither the key material nor a cluster.
const DATABASE_TYPES = [
  'AWS::RDS::GlobalCluster',
  'AWS::RDS::DBCluster',
  'AWS::RDS::DBInstance',
  'AWS::RDS::DBClusterParameterGroup',
  'AWS::RDS::DBSubnetGroup',
];

function resourcesOf(template: Template, types: string[]): Record<string, unknown> {
  return Object.fromEntries(types.flatMap((type) => Object.entries(template.findResources(type))));
}

describe.each(['primary', 'secondary'] as const)('the %s stack after a failover', (role) => {
  it('leaves every database resource exactly as it was (no update, no replacement)', () => {
    const before = resourcesOf(templates.normal[role], DATABASE_TYPES);
    expect(Object.keys(before).length).toBeGreaterThan(3);
    expect(resourcesOf(templates.afterFailover[role], DATABASE_TYPES)).toEqual(before);
  });
});

it('never names a source cluster on the global cluster, the identifier that drifts after a failover', () => {
  for (const template of [templates.normal.primary, templates.afterFailover.primary]) {
    const [globalCluster] = Object.values(template.findResources('AWS::RDS::GlobalCluster'));
    expect(globalCluster.Properties).not.toHaveProperty('SourceDBClusterIdentifier');
  }
  templates.normal.secondary.resourceCountIs('AWS::RDS::GlobalCluster', 0);
});

it('runs the schema migration where the writer is', () => {
  const migrations = (template: Template): number =>
    Object.keys(template.findResources('AWS::CloudFormation::CustomResource')).length + Object.keys(template.findResources('Custom::SchemaMigration')).length;
  expect(migrations(templates.normal.primary)).toBe(1);
  expect(migrations(templates.normal.secondary)).toBe(0);
  expect(migrations(templates.afterFailover.primary)).toBe(0);
  expect(migrations(templates.afterFailover.secondary)).toBe(1);
});

it("pauses the secret rotation while the writer is away from the secret's home region", () => {
  templates.normal.primary.resourceCountIs('AWS::SecretsManager::RotationSchedule', 1);
  templates.afterFailover.primary.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
  // The secret and its attachment stay: both regions' functions keep reading it.
  templates.afterFailover.primary.resourceCountIs('AWS::SecretsManager::SecretTargetAttachment', 1);
  templates.afterFailover.primary.resourceCountIs('AWS::SecretsManager::Secret', 1);
});

it("refuses a writer region that is neither of the deployment's regions", () => {
  expect(() => synthDeployment({ writerRegion: 'eu-west-1' })).toThrow(/writerRegion: must be primaryRegion \(us-east-1\) or secondaryRegion \(us-east-2\)/);
});

/**
 * The break-glass deploy (docs/runbooks/break-glass.md): with us-east-1 down, a change is deployed
 * from a workstation straight to the us-east-2 stack with writerRegion=us-east-2. IAM's control
 * plane lives in us-east-1 (AWS: "IAM ... control plane in us-east-1"), so that deploy must not
 * create, change or delete any IAM resource: the us-east-2 stack's IAM is the same either way.
 */
const IAM_TYPES = [
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::IAM::ManagedPolicy',
  'AWS::IAM::InstanceProfile',
  'AWS::IAM::ServiceLinkedRole',
  'AWS::IAM::User',
];

describe('the break-glass deploy to us-east-2', () => {
  it('changes no IAM resource in the us-east-2 stack', () => {
    const before = resourcesOf(templates.normal.secondary, IAM_TYPES);
    expect(Object.keys(before).length).toBeGreaterThan(10);
    const after = resourcesOf(templates.afterFailover.secondary, IAM_TYPES);
    const changed = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((id) => JSON.stringify(before[id]) !== JSON.stringify(after[id]));
    expect(changed).toEqual([]);
  });
});

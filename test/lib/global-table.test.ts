import { Template } from 'aws-cdk-lib/assertions';
import { RegionRole } from '../../lib/core/region-settings';
import { ControlTable } from '../../lib/data/control-table';
import { globalTable } from '../../lib/data/global-table';
import { OrderJournal, OrderJournalSchema } from '../../lib/data/order-journal';
import { SessionStore } from '../../lib/data/session-store';
import { regionalStack } from '../helpers/stacks';

function tables(role: RegionRole) {
  const { stack, naming, peerRegion } = regionalStack(role);
  const journal = new OrderJournal(stack, 'OrderJournal', { naming, role, peerRegion, witnessRegion: 'us-west-2' });
  const control = new ControlTable(stack, 'ControlTable', { naming, role, peerRegion, witnessRegion: 'us-west-2' });
  const sessions = new SessionStore(stack, 'SessionStore', { naming, role, peerRegion });
  return { template: Template.fromStack(stack), journal, control, sessions, stack, naming };
}

const primary = tables(RegionRole.PRIMARY);
const secondary = tables(RegionRole.SECONDARY);

function globalTableNamed(name: string): Record<string, any> {
  const found = primary.template.findResources('AWS::DynamoDB::GlobalTable', { Properties: { TableName: name } });
  expect(Object.keys(found)).toHaveLength(1);
  return Object.values(found)[0];
}

describe('global tables', () => {
  it('are created by the primary stage with a replica in each region, on demand, destroyable', () => {
    primary.template.resourceCountIs('AWS::DynamoDB::GlobalTable', 3);
    for (const table of Object.values(primary.template.findResources('AWS::DynamoDB::GlobalTable'))) {
      expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
      expect(table.Properties.Replicas.map((replica: { Region: string }) => replica.Region).sort()).toEqual(['us-east-1', 'us-east-2']);
      expect(table.DeletionPolicy).toBe('Delete');
    }
  });

  it('have point-in-time recovery on every replica and no deletion protection', () => {
    for (const table of Object.values(primary.template.findResources('AWS::DynamoDB::GlobalTable'))) {
      expect(table.Properties.Replicas).toHaveLength(2);
      for (const replica of table.Properties.Replicas) {
        expect(replica.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
        expect(replica.DeletionProtectionEnabled ?? false).toBe(false);
      }
      expect(table.Properties.SSESpecification).toEqual(expect.objectContaining({ SSEEnabled: true }));
    }
  });

  it('are referenced, not created, by the secondary stage, by the same deterministic name', () => {
    secondary.template.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
    const resolve = (value: string) => secondary.stack.resolve(value);
    expect(resolve(secondary.journal.table.tableName)).toBe('ddb-order-journal-dev');
    expect(resolve(secondary.control.table.tableName)).toBe('ddb-control-dev');
    expect(resolve(secondary.sessions.table.tableName)).toBe('ddb-sessions-dev');
    expect(JSON.stringify(resolve(secondary.journal.table.tableArn))).toContain('us-east-2');
  });

  it('make the order journal strongly consistent across regions with the witness region', () => {
    const journal = globalTableNamed('ddb-order-journal-dev');
    expect(journal.Properties.MultiRegionConsistency).toBe('STRONG');
    expect(journal.Properties.GlobalTableWitnesses).toEqual([{ Region: 'us-west-2' }]);
  });

  it('key the journal by idempotency key, with a sparse index of entries not yet applied', () => {
    const journal = globalTableNamed('ddb-order-journal-dev');
    expect(journal.Properties.KeySchema).toEqual([{ AttributeName: OrderJournalSchema.orderKey, KeyType: 'HASH' }]);
    expect(journal.Properties.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'pending-by-shard',
        KeySchema: [
          { AttributeName: 'pendingShard', KeyType: 'HASH' },
          { AttributeName: 'acceptedAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
  });

  it('make the control table strongly consistent, so fencing cannot succeed in both regions', () => {
    const control = globalTableNamed('ddb-control-dev');
    expect(control.Properties.MultiRegionConsistency).toBe('STRONG');
    expect(control.Properties.GlobalTableWitnesses).toEqual([{ Region: 'us-west-2' }]);
  });

  it('keep sessions eventually consistent with a TTL', () => {
    const sessions = globalTableNamed('ddb-sessions-dev');
    expect(sessions.Properties.MultiRegionConsistency ?? 'EVENTUAL').toBe('EVENTUAL');
    expect(sessions.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(sessions.Properties.GlobalTableWitnesses).toBeUndefined();
  });

  it('refuse TTL on a strongly consistent table, which DynamoDB does not offer', () => {
    const { stack, naming } = regionalStack(RegionRole.PRIMARY);
    expect(() =>
      globalTable(stack, 'Bad', {
        naming,
        purpose: 'bad',
        role: RegionRole.PRIMARY,
        peerRegion: 'us-east-2',
        partitionKey: { name: 'id', type: 'S' as never },
        strongConsistencyWitnessRegion: 'us-west-2',
        timeToLiveAttribute: 'expiresAt',
      }),
    ).toThrow(/does not offer TTL on strongly consistent/);
  });
});

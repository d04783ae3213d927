import { Purpose } from '../../lib/core/naming';
import { documents } from '../helpers/aws';
import { AuroraStorageModel } from '../helpers/aurora-storage';
import { Deployment, functionSetting, PRIMARY, Region, REGIONS, WorldFixture } from '../helpers/two-region-world';
import { DynamoDbModel, type DynamoDbReach } from './dynamodb-model';

/**
 * What the simulation shares across its sequences in one process: the two-region world's services
 * (test/helpers/two-region-world.ts), the Aurora data side (two PostgreSQL databases), and the
 * order path's settings as the synthesized templates give them to the functions and queues.
 */
export interface OrderPathSettings {
  readonly pendingShards: number;
  readonly maxBodyBytes: number;
  readonly visibilityTimeoutMs: number;
  readonly maxReceiveCount: number;
  readonly batchSize: number;
  /** `rds.global_db_rpo` of each region's cluster parameter group (seconds), if set. */
  readonly rpoSeconds: Record<Region, number | undefined>;
}

function resourcesOfType(template: Record<string, any>, type: string): Record<string, any>[] {
  return Object.values(template.Resources as Record<string, any>).filter((resource) => resource.Type === type);
}

/** The order path's settings from the primary's template (both regions are built alike), and each region's RPO parameter. */
export function orderPathSettings(deployment: Deployment): OrderPathSettings {
  const template = deployment.templates[PRIMARY];
  const [queue] = resourcesOfType(template, 'AWS::SQS::Queue').filter((resource) => resource.Properties?.RedrivePolicy !== undefined);
  const [mapping] = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping');
  if (!queue || !mapping) throw new Error('the template has no order queue with a redrive policy, or no event source mapping');
  const rpoOf = (region: Region): number | undefined => {
    const value = resourcesOfType(deployment.templates[region], 'AWS::RDS::DBClusterParameterGroup')
      .map((group) => group.Properties?.Parameters?.['rds.global_db_rpo'])
      .find((each) => each !== undefined);
    return value === undefined ? undefined : Number(value);
  };
  return {
    pendingShards: Number(functionSetting(deployment, template, PRIMARY, Purpose.orderIntake, 'PENDING_SHARDS')),
    maxBodyBytes: Number(functionSetting(deployment, template, PRIMARY, Purpose.orderIntake, 'MAX_BODY_BYTES')),
    visibilityTimeoutMs: Number(queue.Properties.VisibilityTimeout) * 1000,
    maxReceiveCount: Number(queue.Properties.RedrivePolicy.maxReceiveCount),
    batchSize: Number(mapping.Properties.BatchSize),
    rpoSeconds: { [PRIMARY]: rpoOf(PRIMARY), [REGIONS[1]]: rpoOf(REGIONS[1]) } as Record<Region, number | undefined>,
  };
}

export class SimulationFixture {
  readonly world: WorldFixture;
  readonly storage = new AuroraStorageModel(REGIONS, PRIMARY);
  readonly dynamodb: DynamoDbModel;
  readonly orderPath: OrderPathSettings;
  /** The simulation's clock and how each region reaches DynamoDB, for the DynamoDB model (set by each Simulation). */
  clock = () => 0;
  dynamoDbReach: (region: string) => DynamoDbReach = () => 'normal';

  constructor(deployment: Deployment) {
    this.world = new WorldFixture(deployment);
    this.orderPath = orderPathSettings(deployment);
    this.dynamodb = new DynamoDbModel(
      documents,
      () => this.world.journalTable,
      () => this.clock(),
      (region) => this.dynamoDbReach(region),
    );
  }

  async start(): Promise<void> {
    await this.world.start();
    await this.storage.start();
  }

  async stop(): Promise<void> {
    await this.storage.stop();
    await this.world.stop();
  }

  /** Before each sequence: the world's reset (a new journal among others). The data side is reset by the Simulation, which knows its seed. */
  async reset(): Promise<void> {
    await this.world.reset();
  }
}

import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { OrderJournalSchema } from '../../lambda/contracts/tables';

/**
 * The DynamoDB a region's functions see in the simulation: moto_server's tables (one copy: the
 * journal and control tables are multi-Region strongly consistent, MRSC, so a write acknowledged
 * in either region is what a strongly consistent read in either region returns), plus the rules
 * moto does not have. From the Amazon DynamoDB Developer Guide:
 * - [GSI] "Using Global Secondary Indexes in DynamoDB": "Global secondary indexes support
 *   eventually consistent reads only", and changes reach the index "within a fraction of a second,
 *   under normal conditions" (longer in "unlikely failure scenarios"). A query of the journal's
 *   pending index here answers as the index was `indexLagMs` ago for the items written since
 *   (drawn per seed, well above a fraction of a second).
 * - [MRSC] "Multi-Region strong consistency": a write is replicated to another Region before it is
 *   acknowledged, so a Region cut off from the others cannot complete strongly consistent writes
 *   or reads. Here every call from a region that is dark fails as a timeout; from a region cut
 *   off from the outside while it runs (`cut`), writes and strongly consistent reads fail and
 *   eventually consistent reads answer from the local replica; a cut-off region whose replica
 *   still reaches the witness Region (`reachable`) keeps its quorum and works.
 * - [ERR] "Error handling with DynamoDB": a request that times out may have been carried out.
 *   `loseAnswers` writes are done and then answered with a timeout, as a lost response would be.
 */
/** How a region's functions reach DynamoDB: as usual; not at all (dark); or from a region cut off while it runs (Isolation). */
export type DynamoDbReach = 'normal' | 'dark' | 'cut' | 'reachable';

/** A read the local replica answers alone: no ConsistentRead (an index query always is one). */
function eventuallyConsistentRead(command: { input: Record<string, any> }): boolean {
  if (command instanceof GetCommand || command instanceof QueryCommand || command instanceof ScanCommand) return command.input.ConsistentRead !== true;
  if (command instanceof BatchGetCommand)
    return Object.values(command.input.RequestItems ?? {}).every((request) => (request as { ConsistentRead?: boolean }).ConsistentRead !== true);
  return false;
}

interface Version {
  readonly at: number;
  /** The item as it was before this write (undefined: absent). */
  readonly before: Record<string, unknown> | undefined;
}

export class DynamoDbModel {
  /** Writes (in any region) to perform and then answer with a timeout. */
  loseAnswers = 0;
  indexLagMs = 0;
  readonly lostAnswers: string[] = [];
  private readonly history = new Map<string, Version[]>();

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly journalTable: () => string,
    private readonly now: () => number,
    private readonly reachOf: (region: string) => DynamoDbReach,
  ) {}

  reset(indexLagMs: number): void {
    this.loseAnswers = 0;
    this.indexLagMs = indexLagMs;
    this.lostAnswers.length = 0;
    this.history.clear();
  }

  /** The client the functions of `region` are given. */
  client(region: string): DynamoDBDocumentClient {
    return {
      send: async (command: { input: Record<string, any>; constructor: { name: string } }) => {
        const reach = this.reachOf(region);
        if (reach === 'dark') throw Object.assign(new Error(`DynamoDB in ${region}: no answer (the Region is cut off)`), { name: 'TimeoutError' });
        if (reach === 'cut' && !eventuallyConsistentRead(command)) {
          throw Object.assign(new Error(`DynamoDB in ${region}: the replica reaches neither the other replica nor the witness (MRSC)`), {
            name: 'InternalServerError',
          });
        }
        if (command instanceof QueryCommand && command.input.IndexName === OrderJournalSchema.pendingIndex) return this.staleIndexQuery(command);
        const journalWrite = (command instanceof PutCommand || command instanceof UpdateCommand) && command.input.TableName === this.journalTable();
        const response = journalWrite ? await this.recordedWrite(command as PutCommand | UpdateCommand) : await this.documents.send(command as never);
        if ((command instanceof PutCommand || command instanceof UpdateCommand) && this.loseAnswers > 0) {
          this.loseAnswers--;
          const input = command.input as Record<string, any>;
          this.lostAnswers.push(`${command.constructor.name} ${JSON.stringify(input.Key ?? input.Item?.[OrderJournalSchema.orderKey])}`);
          throw Object.assign(new Error('the write committed but its response was lost'), { name: 'TimeoutError' });
        }
        return response;
      },
    } as unknown as DynamoDBDocumentClient;
  }

  /** A journal write, with the item's previous state kept for the index's lag. */
  private async recordedWrite(command: PutCommand | UpdateCommand): Promise<unknown> {
    const input = command.input as Record<string, any>;
    const asked = input.ReturnValues;
    const key = String(command instanceof PutCommand ? input.Item[OrderJournalSchema.orderKey] : input.Key[OrderJournalSchema.orderKey]);
    const Command = command instanceof PutCommand ? PutCommand : UpdateCommand;
    const response = (await this.documents.send(new Command({ ...input, ReturnValues: asked ?? 'ALL_OLD' } as never) as never)) as {
      Attributes?: Record<string, unknown>;
    };
    const versions = this.history.get(key) ?? [];
    versions.push({ at: this.now(), before: asked === undefined || asked === 'ALL_OLD' ? response.Attributes : undefined });
    this.history.set(key, versions);
    if (asked === undefined) delete response.Attributes;
    return response;
  }

  /** [GSI] the pending index as it was `indexLagMs` ago for items written since. */
  private async staleIndexQuery(command: QueryCommand): Promise<unknown> {
    const response = (await this.documents.send(command)) as { Items?: Record<string, unknown>[] };
    if (this.indexLagMs === 0) return response;
    const since = this.now() - this.indexLagMs;
    const shard = command.input.ExpressionAttributeValues?.[':shard'];
    const recent = new Map<string, Record<string, unknown> | undefined>();
    for (const [key, versions] of this.history) {
      const first = versions.find((version) => version.at > since);
      if (first) recent.set(key, first.before);
    }
    const items = (response.Items ?? []).filter((item) => !recent.has(String(item[OrderJournalSchema.orderKey])));
    for (const old of recent.values()) if (old && old[OrderJournalSchema.pendingShard] === shard) items.push(old);
    items.sort((a, b) => String(a[OrderJournalSchema.acceptedAt]).localeCompare(String(b[OrderJournalSchema.acceptedAt])));
    return { ...response, Items: items };
  }
}

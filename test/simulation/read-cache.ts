import * as smithy from '@smithy/core/client';
import { unmarshall } from '@aws-sdk/util-dynamodb';

/**
 * An exact read cache in front of moto_server for the simulation's process, so that the checks
 * that run every simulated ten seconds (the health of both regions, the prober's reads, the
 * invariants) cost a map lookup instead of a round trip to the emulator.
 *
 * It is exact, not a model: every writer of these tables and parameters is in this process, and
 * every write goes through an SDK client, so a cached item is dropped the moment any client sends
 * a write to it (before the write, and again when its answer comes, whatever the answer). A read
 * that was in flight while a write was sent is not kept. What it caches:
 * - DynamoDB items read by key through the document client (GetCommand), per client;
 * - SSM parameters read by name (GetParameterCommand), per client (clients are per region), "no
 *   such parameter" included.
 * Everything else (queries, scans, other services) goes to the emulator every time. Reads the
 * simulation makes kinder or harsher than AWS (eventually consistent index reads, lost answers)
 * are modelled above this, in the clients the simulation hands the code.
 */

type Key = Record<string, unknown>;

interface Entry {
  readonly table: string;
  readonly key: Key;
  readonly value: Promise<unknown>;
}

/** Commands that change nothing the cache holds (writes elsewhere, or reads). */
const HARMLESS = new Set([
  'QueryCommand',
  'ScanCommand',
  'GetItemCommand',
  'PutMetricDataCommand',
  'GetMetricStatisticsCommand',
  'GetMetricDataCommand',
  'PublishCommand',
  'PutEventsCommand',
  'SendMessageCommand',
  'SendMessageBatchCommand',
  'ReceiveMessageCommand',
  'DeleteMessageCommand',
  'DeleteMessageBatchCommand',
  'GetQueueAttributesCommand',
  'DescribeGlobalClustersCommand',
  'StartExecutionCommand',
  'GetSecretValueCommand',
  'CreateSecretCommand',
  'CreateTableCommand',
  'CreateQueueCommand',
  'CreateTopicCommand',
  'SubscribeCommand',
  'CreateEventBusCommand',
]);

let installed: { restore: () => void; stats: { hits: number; misses: number } } | undefined;

/** Installs the cache on every SDK client of this process (once); returns its hit counts. */
export function installReadCache(): { hits: number; misses: number } {
  if (installed) return installed.stats;
  const proto = (smithy as unknown as { Client: { prototype: { send: (...args: any[]) => Promise<unknown> } } }).Client.prototype;
  const send = proto.send;
  const items = new WeakMap<object, Map<string, Entry>>();
  const parameters = new WeakMap<object, Map<string, Promise<unknown>>>();
  /** Bumped by every write, per table or parameter ('*': a write the cache does not know): a read that saw its bump while in flight is not kept. */
  const generations = new Map<string, number>();
  const bump = (scope: string) => generations.set(scope, (generations.get(scope) ?? 0) + 1);
  const generationOf = (scope: string) => `${generations.get(scope) ?? 0}/${generations.get('*') ?? 0}`;
  const stats = { hits: 0, misses: 0 };
  const allItemMaps = new Set<Map<string, Entry>>();
  const allParameterMaps = new Set<Map<string, Promise<unknown>>>();

  const dropItems = (table: string | undefined, matches: (key: Key) => boolean): void => {
    for (const map of allItemMaps) for (const [id, entry] of map) if (table === undefined || (entry.table === table && matches(entry.key))) map.delete(id);
  };
  const dropParameter = (name: string | undefined): void => {
    for (const map of allParameterMaps)
      if (name === undefined) map.clear();
      else map.delete(name);
  };
  const contains = (item: Key, key: Key): boolean =>
    Object.entries(key).every(([attribute, value]) => JSON.stringify(item[attribute]) === JSON.stringify(value));
  const plain = (value: unknown): Key => unmarshall(value as Parameters<typeof unmarshall>[0]) as Key;

  /** Drops what a write may change. */
  const invalidate = (name: string, input: Record<string, any>): void => {
    if (HARMLESS.has(name)) return;
    const known = ['PutCommand', 'UpdateCommand', 'DeleteCommand', 'PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand'].includes(name)
      ? `table:${input.TableName}`
      : ['PutParameterCommand', 'DeleteParameterCommand'].includes(name)
        ? `parameter:${input.Name}`
        : '*';
    bump(known);
    switch (name) {
      case 'PutCommand':
        return dropItems(input.TableName, (key) => contains(input.Item, key));
      case 'UpdateCommand':
      case 'DeleteCommand':
        return dropItems(input.TableName, (key) => contains(input.Key, key) && contains(key, input.Key));
      case 'PutItemCommand':
        return dropItems(input.TableName, (key) => contains(plain(input.Item), key));
      case 'UpdateItemCommand':
      case 'DeleteItemCommand':
        return dropItems(input.TableName, (key) => contains(plain(input.Key), key));
      case 'PutParameterCommand':
      case 'DeleteParameterCommand':
        return dropParameter(input.Name);
      default:
        // A write the cache does not know (a transaction, a batch, a table deleted): drop it all.
        dropItems(undefined, () => true);
        dropParameter(undefined);
    }
  };

  proto.send = function cachedSend(this: object, command: { constructor: { name: string }; input: Record<string, any> }, ...rest: unknown[]) {
    const name = command?.constructor?.name ?? '';
    if (name === 'GetCommand' || name === 'GetParameterCommand') {
      const id = name === 'GetCommand' ? `${command.input.TableName}\u0000${JSON.stringify(command.input.Key)}` : String(command.input.Name);
      const byClient = name === 'GetCommand' ? items : parameters;
      let map = byClient.get(this) as Map<string, unknown> | undefined;
      if (!map) {
        map = new Map();
        byClient.set(this, map as never);
        if (name === 'GetCommand') allItemMaps.add(map as Map<string, Entry>);
        else allParameterMaps.add(map as Map<string, Promise<unknown>>);
      }
      const cached = map.get(id);
      if (cached !== undefined) {
        stats.hits++;
        // Each caller gets its own copy, as from the wire.
        return ((name === 'GetCommand' ? (cached as Entry).value : cached) as Promise<unknown>).then((response) => structuredClone(response));
      }
      stats.misses++;
      const scope = name === 'GetCommand' ? `table:${command.input.TableName}` : `parameter:${command.input.Name}`;
      const startedAt = generationOf(scope);
      const value = send.call(this, command, ...rest) as Promise<unknown>;
      const store = name === 'GetCommand' ? { table: command.input.TableName, key: command.input.Key, value } : value;
      map.set(id, store);
      // A failed read, or one a write overtook, is not kept.
      const current = map;
      value.then(
        () => {
          if (generationOf(scope) !== startedAt && current.get(id) === store) current.delete(id);
        },
        (error: { name?: string }) => {
          // "No such parameter" is the service's answer, kept like any other; a failure to answer is not.
          const answered = error?.name === 'ParameterNotFound' && generationOf(scope) === startedAt;
          if (!answered && current.get(id) === store) current.delete(id);
        },
      );
      return value.then((response) => structuredClone(response));
    }
    invalidate(name, command?.input ?? {});
    const result = send.call(this, command, ...rest) as Promise<unknown>;
    const settle = () => invalidate(name, command?.input ?? {});
    result.then(settle, settle);
    return result;
  };
  installed = { restore: () => (proto.send = send), stats };
  return stats;
}

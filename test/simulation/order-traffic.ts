import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { acceptOrder } from '../../lambda/intake/intake';
import { processOrders } from '../../lambda/processor/processor';
import { orderKeyOf } from '../../lambda/shared/order';
import { silentLogger } from '../helpers/aws';
import type { AuroraStorageModel } from '../helpers/aurora-storage';
import { PRIMARY, Region, REGIONS, TARGETS } from '../helpers/two-region-world';
import type { OrderQueueModel } from './order-queue';

/**
 * Orders through the real order path of both regions, on the simulation's clock: a client sends
 * orders to whatever `api.<zone>` resolves to (some through a resolver that keeps an old answer),
 * and retries an unanswered one with the same key (each client order id is used by three accounts); each region's real intake journals
 * and enqueues it; each region's real processor takes batches from its queue and commits them to
 * its Aurora cluster. An order is acknowledged when intake answers 201 or 200.
 */
export interface TrafficSettings {
  /** New orders per step of the clock. */
  readonly ordersPerStep: number;
  /** How old a DNS answer some clients still use (a resolver or runtime caching past the TTL). */
  readonly staleDnsMs: number;
  readonly pendingShards: number;
  readonly maxBodyBytes: number;
  readonly journalTable: () => string;
  readonly controlTable: string;
}

export interface TrafficWorld {
  readonly now: () => number;
  /** The DNS answer at a moment (the simulation keeps the history). */
  readonly answerAt: (at: number) => string;
  /** Whether `region`'s API answers requests (up, reachable, not answering errors). */
  readonly apiAnswers: (region: Region) => boolean;
  /** Whether `region`'s functions run (false while it is dark; true while it is only cut off). */
  readonly runs: (region: Region) => boolean;
  readonly documents: (region: Region) => DynamoDBDocumentClient;
  readonly queues: Record<Region, OrderQueueModel>;
  readonly storage: AuroraStorageModel;
}

export interface AcknowledgedOrder {
  /** The idempotency key (orderKeyOf). */
  readonly orderKey: string;
  readonly orderId: string;
  readonly acknowledgedAt: number;
  readonly region: Region;
}

interface Outstanding {
  readonly orderKey: string;
  readonly body: string;
  readonly stale: boolean;
}

export class OrderTraffic {
  readonly acknowledged = new Map<string, AcknowledgedOrder>();
  /** Invocations that timed out because the writer paused commits (rds.global_db_rpo). */
  blockedInvocations = 0;
  /** Regions whose event source mapping delivers nothing for now (the processor throttled). */
  readonly paused = new Set<Region>();
  private readonly outstanding: Outstanding[] = [];
  private sent = 0;

  /** Orders sent and not yet answered. */
  get outstandingCount(): number {
    return this.outstanding.length;
  }

  constructor(
    private readonly world: TrafficWorld,
    private readonly settings: TrafficSettings,
    private readonly seed: number,
  ) {}

  /** New orders, and the retries of unanswered ones, each to the region its client resolves. */
  async send(): Promise<void> {
    const now = this.world.now();
    for (let index = 0; index < this.settings.ordersPerStep; index++) {
      this.sent++;
      // Three accounts in turn use each client order id: the key is the account's, so these are three orders.
      const clientOrderId = `s${this.seed}-o${Math.ceil(this.sent / 3)}`;
      const accountId = `acct-${this.sent % 3}`;
      const body = JSON.stringify({
        clientOrderId,
        accountId,
        symbol: 'AAPL',
        side: this.sent % 2 === 0 ? 'buy' : 'sell',
        orderType: 'limit',
        quantity: 1 + (this.sent % 7),
        limitPrice: 100 + (this.sent % 5),
      });
      // Every third client keeps an old DNS answer.
      this.outstanding.push({ orderKey: orderKeyOf({ accountId, clientOrderId }), body, stale: this.sent % 3 === 0 });
    }
    const unanswered: Outstanding[] = [];
    for (const order of this.outstanding.splice(0)) {
      const target = this.world.answerAt(order.stale ? now - this.settings.staleDnsMs : now);
      const region = REGIONS.find((each) => TARGETS[each] === target) ?? PRIMARY;
      if (!this.world.apiAnswers(region)) {
        unanswered.push(order);
        continue;
      }
      const response = await acceptOrder(order.body, false, {
        documents: this.world.documents(region),
        sqs: this.world.queues[region].client(),
        journalTable: this.settings.journalTable(),
        queueUrl: `orders-${region}`,
        region,
        pendingShards: this.settings.pendingShards,
        maxBodyBytes: this.settings.maxBodyBytes,
        logger: silentLogger,
        now: () => new Date(now),
      });
      if (response.statusCode === 201 || response.statusCode === 200) {
        const { orderId } = JSON.parse(response.body) as { orderId: string };
        if (!this.acknowledged.has(order.orderKey)) this.acknowledged.set(order.orderKey, { orderKey: order.orderKey, orderId, acknowledgedAt: now, region });
      } else {
        unanswered.push(order);
      }
    }
    this.outstanding.push(...unanswered);
  }

  /** Each region's event source mapping delivers a batch to its real processor. */
  async process(): Promise<void> {
    const now = this.world.now();
    for (const region of REGIONS) {
      if (!this.world.runs(region) || this.paused.has(region)) continue;
      const queue = this.world.queues[region];
      // A few batches per step: the processor keeps up with the traffic.
      for (let batch = 0; batch < 4; batch++) {
        const event = queue.receive(now);
        if (!event) break;
        let failed: string[] | undefined;
        const blockedBefore = this.world.storage.blockedCommits;
        try {
          const response = await processOrders(event, {
            database: this.world.storage.database(region),
            documents: this.world.documents(region),
            journalTable: this.settings.journalTable(),
            controlTable: this.settings.controlTable,
            region,
            primaryRegion: PRIMARY,
            logger: silentLogger,
            // The simulated clock: the commit's record starts the durability window reconciliation measures on it.
            now: () => new Date(now),
          });
          failed = response.batchItemFailures.map((failure) => failure.itemIdentifier);
        } catch {
          // The invocation erred: the whole batch returns.
          failed = undefined;
        }
        // A commit paused by the RPO rule waits until the invocation times out: the batch returns.
        if (this.world.storage.blockedCommits > blockedBefore) {
          this.blockedInvocations++;
          failed = undefined;
        }
        queue.settle(event, failed);
      }
    }
  }
}

import { PRIMARY, Region, SECONDARY } from '../helpers/two-region-world';

/** A fault for the next run of a state machine. */
export type RunFault = 'lose-lock-answer' | 'lose-fence-answer' | 'busy-cluster' | 'late-switchover';

/** Something that happens at `at` seconds into a sequence. */
export type Event = { readonly at: number } & (
  | { readonly kind: 'region-down' | 'region-up' | 'region-errors' | 'region-errors-end' | 'database-down' | 'database-up'; readonly region: Region }
  // The region's API functions answer errors while its RDS control plane is sound (FIS Lambda faults).
  | { readonly kind: 'api-errors' | 'api-errors-end'; readonly region: Region }
  | { readonly kind: 'prober-path-down' | 'prober-path-up' | 'pause' | 'resume' }
  | { readonly kind: 'operator-run'; readonly region: Region; readonly mode: 'planned' | 'unplanned' }
  | { readonly kind: 'run-fault'; readonly fault: RunFault }
  | { readonly kind: 'queue-errors' | 'queue-errors-end' | 'processing-paused' | 'processing-resumed'; readonly region: Region }
  | { readonly kind: 'lose-write-answers'; readonly count: number }
  | { readonly kind: 'region-isolated'; readonly region: Region; readonly journal: Isolation }
  | { readonly kind: 'region-isolation-end'; readonly region: Region }
);

/**
 * A region cut off from the outside (clients, Route 53's checkers, the other region, Aurora's
 * replication) while its own functions keep running against its own database. `cut`: its
 * DynamoDB replicas lose their quorum too (MRSC refuses their writes and strongly consistent
 * reads); `reachable`: the replica still reaches the witness Region, so DynamoDB works.
 */
export type Isolation = 'cut' | 'reachable';

/** The data side of a sequence, drawn from its seed. */
export interface DataSettings {
  /** How far Aurora's secondary trails the writer. */
  readonly replicationLagMs: number;
  /** How far the journal's pending index trails the table. */
  readonly indexLagMs: number;
  /** How old a DNS answer some clients keep. */
  readonly staleDnsMs: number;
}

export interface Sequence {
  readonly name: string;
  readonly events: readonly Event[];
  /** Simulated seconds, including time to settle after the last fault. */
  readonly durationSeconds: number;
  /** Aurora's replication lag, as describes until a promotion completes. */
  readonly lagPolls: number;
  readonly data: DataSettings;
}

/** Time for the prober to see a recovered primary, fail back and for DNS to follow (with failbackAfterHealthySeconds 60). */
const SETTLE = 300;

const outage = (from: number, seconds: number): Event[] => [
  { at: from, kind: 'region-down', region: PRIMARY },
  { at: from + seconds, kind: 'region-up', region: PRIMARY },
];

const isolation = (from: number, seconds: number, journal: Isolation): Event[] => [
  { at: from, kind: 'region-isolated', region: PRIMARY, journal },
  { at: from + seconds, kind: 'region-isolation-end', region: PRIMARY },
];

/** The named sequences: each fault of the failover-correctness issue, and two at once. */
export const NAMED_SEQUENCES: Record<string, (lagPolls: number) => Omit<Sequence, 'data'>> = {
  'planned-twice': (lagPolls) => ({
    name: 'planned-twice',
    lagPolls,
    durationSeconds: 1200,
    events: [
      { at: 30, kind: 'operator-run', region: SECONDARY, mode: 'planned' },
      { at: 300, kind: 'operator-run', region: PRIMARY, mode: 'planned' },
      { at: 600, kind: 'operator-run', region: SECONDARY, mode: 'planned' },
      { at: 900, kind: 'operator-run', region: PRIMARY, mode: 'planned' },
    ],
  }),
  'unplanned-twice': (lagPolls) => ({ name: 'unplanned-twice', lagPolls, durationSeconds: 1500 + SETTLE, events: [...outage(60, 300), ...outage(900, 240)] }),
  'planned-then-outage': (lagPolls) => ({
    name: 'planned-then-outage',
    lagPolls,
    durationSeconds: 1500 + SETTLE,
    events: [
      { at: 30, kind: 'operator-run', region: SECONDARY, mode: 'planned' },
      { at: 300, kind: 'operator-run', region: PRIMARY, mode: 'planned' },
      ...outage(600, 300),
    ],
  }),
  'lost-answers': (lagPolls) => ({
    name: 'lost-answers',
    lagPolls,
    durationSeconds: 900,
    events: [
      { at: 20, kind: 'run-fault', fault: 'lose-lock-answer' },
      { at: 20, kind: 'run-fault', fault: 'lose-fence-answer' },
      { at: 30, kind: 'operator-run', region: SECONDARY, mode: 'planned' },
      { at: 400, kind: 'operator-run', region: PRIMARY, mode: 'planned' },
    ],
  }),
  'silent-region-lost-answer': (lagPolls) => ({
    name: 'silent-region-lost-answer',
    lagPolls,
    durationSeconds: 900 + SETTLE,
    events: [{ at: 10, kind: 'run-fault', fault: 'lose-fence-answer' }, ...outage(60, 400)],
  }),
  'late-switchover': (lagPolls) => ({
    name: 'late-switchover',
    lagPolls,
    durationSeconds: 900,
    events: [
      { at: 20, kind: 'run-fault', fault: 'late-switchover' },
      { at: 30, kind: 'operator-run', region: SECONDARY, mode: 'planned' },
    ],
  }),
  'late-switchover-during-database-outage': (lagPolls) => ({
    name: 'late-switchover-during-database-outage',
    lagPolls,
    durationSeconds: 900 + SETTLE,
    events: [
      { at: 10, kind: 'run-fault', fault: 'late-switchover' },
      { at: 60, kind: 'database-down', region: PRIMARY },
      { at: 400, kind: 'database-up', region: PRIMARY },
    ],
  }),
  'busy-cluster-during-outage': (lagPolls) => ({
    name: 'busy-cluster-during-outage',
    lagPolls,
    durationSeconds: 900 + SETTLE,
    events: [{ at: 10, kind: 'run-fault', fault: 'busy-cluster' }, ...outage(60, 300)],
  }),
  flapping: (lagPolls) => ({
    name: 'flapping',
    lagPolls,
    durationSeconds: 900,
    // Down 20 s, up 10 s, for ten minutes: every 200 restarts the prober's count.
    events: Array.from({ length: 20 }, (_, index) => outage(60 + index * 30, 20)).flat(),
  }),
  'errors-not-silence': (lagPolls) => ({
    name: 'errors-not-silence',
    lagPolls,
    durationSeconds: 900 + SETTLE,
    // us-east-1 answers, with 500s, its API and its RDS control plane alike, for seven minutes.
    events: [
      { at: 60, kind: 'region-errors', region: PRIMARY },
      { at: 480, kind: 'region-errors-end', region: PRIMARY },
    ],
  }),
  'one-vantage-point': (lagPolls) => ({
    name: 'one-vantage-point',
    lagPolls,
    durationSeconds: 900,
    events: [
      { at: 60, kind: 'prober-path-down' },
      { at: 600, kind: 'prober-path-up' },
    ],
  }),
  // us-east-1 is cut off but keeps running: its processor works its queue against its own writer
  // (and the journal, which still reaches its quorum) while us-east-2 is promoted, until it rejoins.
  'isolated-writer': (lagPolls) => ({
    name: 'isolated-writer',
    lagPolls,
    durationSeconds: 900 + SETTLE,
    // Its processor is held back for 40 s first (throttled), so it has orders to commit once cut off.
    events: [
      { at: 30, kind: 'processing-paused', region: PRIMARY },
      { at: 70, kind: 'processing-resumed', region: PRIMARY },
      ...isolation(60, 400, 'reachable'),
    ],
  }),
  'isolated-writer-journal-cut': (lagPolls) => ({
    name: 'isolated-writer-journal-cut',
    lagPolls,
    durationSeconds: 900 + SETTLE,
    events: isolation(60, 400, 'cut'),
  }),
  'paused-outage': (lagPolls) => ({
    name: 'paused-outage',
    lagPolls,
    durationSeconds: 900 + SETTLE,
    events: [{ at: 10, kind: 'pause' }, ...outage(60, 300), { at: 500, kind: 'resume' }],
  }),
};

/** A small deterministic generator (mulberry32), so a seed replays exactly. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

const FAULTS: readonly RunFault[] = ['lose-lock-answer', 'lose-fence-answer', 'busy-cluster', 'late-switchover'];

/**
 * Replication lags a sequence may have: none, the seconds of a busy writer, and one longer than
 * the 5 minutes an order must at least spend in the writer before it leaves the pending index
 * (journalDurableAfterSeconds), so that only the writer's replication status keeps a failover
 * allowing data loss from dropping orders no longer pending.
 */
const REPLICATION_LAGS_MS = [0, 10_000, 20_000, 400_000];

/** A sequence's data side from its seed: a replication lag from REPLICATION_LAGS_MS, 10 s of index lag, a minute of stale DNS. */
export function dataSettings(next: () => number): DataSettings {
  return {
    replicationLagMs: REPLICATION_LAGS_MS[Math.min(REPLICATION_LAGS_MS.length - 1, Math.floor(next() * REPLICATION_LAGS_MS.length))],
    indexLagMs: Math.round(next() * 10) * 1000,
    staleDnsMs: Math.round(next() * 6) * 10_000,
  };
}

/**
 * A random schedule from a seed: two to four episodes (a planned failover and failback, an outage
 * of the primary, a database outage, flapping, a broken path from the prober), each perhaps with
 * a fault for the run it causes, separated by time to settle.
 */
export function randomSequence(seed: number): Sequence {
  const next = random(seed);
  // The data side draws from its own stream, so a seed's failover schedule stays what it was before the data side existed.
  const data = random(seed ^ 0x5eed);
  // Whether an outage leaves the region running in isolation: a third stream, for the same reason.
  const isolations = random(seed ^ 0x150);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  const between = (low: number, high: number) => Math.round(low + next() * (high - low));
  const events: Event[] = [];
  let at = 30;
  const episodes = between(2, 4);
  for (let episode = 0; episode < episodes; episode++) {
    if (next() < 0.4) events.push({ at: at - 10, kind: 'run-fault', fault: pick(FAULTS) });
    if (data() < 0.2) events.push({ at: at - 10, kind: 'lose-write-answers', count: 1 + Math.floor(data() * 3) });
    if (data() < 0.2)
      events.push({ at: at - 10, kind: 'queue-errors', region: PRIMARY }, { at: at + 10 + Math.floor(data() * 50), kind: 'queue-errors-end', region: PRIMARY });
    const kind = pick(['planned', 'outage', 'database', 'flapping', 'vantage'] as const);
    switch (kind) {
      case 'planned':
        events.push(
          { at, kind: 'operator-run', region: SECONDARY, mode: 'planned' },
          { at: at + between(120, 300), kind: 'operator-run', region: PRIMARY, mode: 'planned' },
        );
        break;
      case 'outage': {
        const seconds = between(40, 400);
        const isolated = isolations() < 0.3;
        events.push(...(isolated ? isolation(at, seconds, isolations() < 0.5 ? 'cut' : 'reachable') : outage(at, seconds)));
        break;
      }
      case 'database':
        events.push({ at, kind: 'database-down', region: PRIMARY }, { at: at + between(20, 300), kind: 'database-up', region: PRIMARY });
        break;
      case 'flapping':
        events.push(...Array.from({ length: between(3, 10) }, (_, index) => outage(at + index * 30, 20)).flat());
        break;
      case 'vantage':
        events.push({ at, kind: 'prober-path-down' }, { at: at + between(60, 300), kind: 'prober-path-up' });
        break;
    }
    at = Math.max(...events.map((event) => event.at)) + SETTLE;
  }
  return { name: `random-${seed}`, lagPolls: between(0, 6), durationSeconds: at + SETTLE, events, data: dataSettings(data) };
}

/** The sequence a name and seed stand for: a named one (its lag drawn from the seed) or a random one. */
export function sequenceOf(name: string | undefined, seed: number): Sequence {
  if (name === undefined || name === 'random') return randomSequence(seed);
  const build = NAMED_SEQUENCES[name];
  if (!build) throw new Error(`no sequence named ${name}; named: ${Object.keys(NAMED_SEQUENCES).join(', ')}, or random`);
  return { ...build(Math.floor(random(seed)() * 6)), data: dataSettings(random(seed ^ 0x5eed)) };
}

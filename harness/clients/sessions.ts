// Polling helpers for consumer sessions: members of one group are polled side by side (each in
// its own driver, so one member's blocking poll never starves another) until a condition on
// their assignments holds, within a bound.
import type { CommittedOffset, ConsumerSession, InRecord, TopicPartition } from './types.js';

export interface MemberState {
  assignment: TopicPartition[];
  records: InRecord[];
}

export const tp = (a: TopicPartition) => `${a.topic}/${a.partition}`;

/**
 * Polls every member (concurrently, `pollMs` each round) and accumulates what each returned,
 * until `done(states)` holds. Rejects after `timeoutMs` with the last assignments, so a
 * failure says what the group looked like.
 */
export async function pollMembers(
  members: ConsumerSession[], done: (states: MemberState[]) => boolean, timeoutMs: number, pollMs = 1000,
  states: MemberState[] = members.map(() => ({ assignment: [], records: [] })),
): Promise<MemberState[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rounds = await Promise.all(members.map((m) => m.poll(pollMs)));
    rounds.forEach((r, i) => {
      states[i]!.assignment = r.assignment;
      states[i]!.records.push(...r.records);
    });
    if (done(states)) return states;
    if (Date.now() > deadline) {
      const seen = states.map((s, i) => `member ${i + 1}: [${s.assignment.map(tp).join(', ')}] ${s.records.length} record(s)`).join('; ');
      throw new Error(`group did not reach the expected state within ${timeoutMs} ms (${seen})`);
    }
  }
}

/** Kafka's convention: the committed offset of a partition is the next one to read. */
export function nextOffsets(records: InRecord[]): CommittedOffset[] {
  const next = new Map<string, CommittedOffset>();
  for (const r of records) next.set(tp(r), { topic: r.topic, partition: r.partition, offset: (BigInt(r.offset) + 1n).toString() });
  return [...next.values()];
}

export interface BufferedSession extends ConsumerSession {
  /** The client delivered a record (a push-style client: KafkaJS's run, a stream). */
  push(record: InRecord): void;
  /** The client failed; the next poll rejects with this. */
  fail(err: unknown): void;
}

/**
 * A poll-style session over a push-style client: records are buffered as the client delivers
 * them and handed out by `poll`; records of partitions no longer assigned are dropped, and
 * `commit` commits the position after every record handed out.
 */
export function bufferedSession(client: {
  assignment(): TopicPartition[];
  commit(offsets: CommittedOffset[]): Promise<void>;
  seek(topic: string, partition: number, offset: string): Promise<void>;
  close(): Promise<void>;
  /** Maps a client failure to a ClientError. */
  translate(err: unknown): Promise<never>;
}): BufferedSession {
  let buffer: InRecord[] = [];
  let failed: unknown;
  let wake: (() => void) | undefined;
  const returned: InRecord[] = [];
  const sorted = () => [...client.assignment()].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  return {
    push(record) {
      buffer.push(record);
      wake?.();
    },
    fail(err) {
      failed = err;
      wake?.();
    },
    async poll(timeoutMs) {
      if (!buffer.length && failed === undefined) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, timeoutMs);
          wake = () => { clearTimeout(t); r(); };
        });
        wake = undefined;
      }
      if (failed !== undefined) await client.translate(failed);
      const assignment = sorted();
      const owned = new Set(assignment.map(tp));
      const records = buffer.filter((r) => owned.has(tp(r)));
      buffer = [];
      returned.push(...records);
      return { records, assignment };
    },
    async commit() {
      const offsets = nextOffsets(returned);
      if (offsets.length) await client.commit(offsets);
      return offsets;
    },
    async seek(topic, partition, offset) {
      buffer = buffer.filter((r) => !(r.topic === topic && r.partition === partition));
      await client.seek(topic, partition, offset);
    },
    close: () => client.close(),
  };
}

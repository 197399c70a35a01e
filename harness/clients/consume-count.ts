// What ConsumeRequest.count counts: distinct records, by (topic, partition, offset). A consumer
// that loses its group membership (a session that expired on a busy machine, a rebalance) reads
// again from the last committed offset: at-least-once, correct without idempotence. Such a
// record is delivered twice; the consume keeps both deliveries, for the delivery checker to
// count and show (harness/util/delivery.ts), but the second does not count towards `count`.
// Counting deliveries instead stopped a consume with the count reached and a record unread,
// which the checker could only call lost.

interface Delivered {
  topic: string;
  partition: number;
  offset: string | number | bigint;
}

/** Counts distinct records; `add` returns how many distinct records have been seen. */
export function distinctRecords(): { add(r: Delivered): number; readonly size: number } {
  const seen = new Set<string>();
  return {
    add(r) {
      seen.add(`${r.topic}\u0000${r.partition}\u0000${String(r.offset)}`);
      return seen.size;
    },
    get size() {
      return seen.size;
    },
  };
}

/**
 * Where a one-shot consume's group resumes: per partition, one past the highest offset handed
 * back (what Kafka commits: the next offset to read). The highest, not the last: a record
 * delivered again may come after higher ones.
 */
export function resumeOffsets(records: readonly Delivered[]): { topic: string; partition: number; offset: bigint }[] {
  const next = new Map<string, { topic: string; partition: number; offset: bigint }>();
  for (const r of records) {
    const k = `${r.topic}\u0000${r.partition}`;
    const o = BigInt(r.offset) + 1n;
    if ((next.get(k)?.offset ?? -1n) < o) next.set(k, { topic: r.topic, partition: r.partition, offset: o });
  }
  return [...next.values()];
}

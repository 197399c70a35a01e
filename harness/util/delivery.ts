// The one delivery checker: acknowledged records against consumed ones, per partition, judged the
// way Apache Kafka's validate_delivery judges them. Loss (acknowledged, never consumed) always
// fails; a duplicate fails only when the producer was idempotent (without idempotence
// at-least-once is correct: duplicates are counted, shown and recorded on the cell); reordering
// within a partition fails; a consumed record nobody acknowledged fails.
import type { InRecord, OutRecord, ProducedRecord } from '../clients/types.js';
import { recordDuplicates } from './delivery-log.js';

/** One record as the checker sees it; an offset below 0 (acks=0) is matched by content instead. */
export interface DeliveryRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
}

export interface DeliveryOptions {
  /** The producer had idempotence on: a duplicate is a failure. */
  idempotent?: boolean;
  /**
   * `acked` is in send order (one producer, records sent one after the other): within a
   * partition the records must sit, and be consumed, in that order. Default true.
   */
  sendOrder?: boolean;
}

export interface Duplicate {
  record: DeliveryRecord;
  /** How many times it was consumed (≥ 2). */
  count: number;
}

export interface Reordering {
  record: DeliveryRecord;
  /** The record it should have come before. */
  after: DeliveryRecord;
  /** `consumed`: read after a later offset of its partition; `sent`: sent earlier but stored at a higher offset. */
  kind: 'consumed' | 'sent';
}

export interface PartitionDelivery {
  /** `topic/partition` */
  partition: string;
  acked: number;
  consumed: number;
  lost: DeliveryRecord[];
  duplicated: Duplicate[];
  reordered: Reordering[];
  unexpected: DeliveryRecord[];
}

export interface DeliveryReport {
  ok: boolean;
  idempotent: boolean;
  partitions: PartitionDelivery[];
  lost: number;
  /** Extra deliveries: a record consumed 3 times adds 2. */
  duplicates: number;
  reordered: number;
  unexpected: number;
  /** One line per partition with a finding, failures first; empty when delivery was exact. */
  message: string;
}

const tpOf = (r: { topic: string; partition: number }) => `${r.topic}/${r.partition}`;
const contentOf = (r: DeliveryRecord) => JSON.stringify([r.topic, r.key, r.value]);
const knownOffset = (r: DeliveryRecord) => /^\d+$/.test(r.offset);
const show = (r: DeliveryRecord) => `${r.offset}:${r.key ?? 'null'}=${r.value === null ? 'null' : JSON.stringify(r.value.length > 40 ? `${r.value.slice(0, 40)}…` : r.value)}`;

/** The acknowledged records of one produce call: what was sent, where the acknowledgements put it. */
export function acknowledged(sent: readonly OutRecord[], acks: readonly ProducedRecord[]): DeliveryRecord[] {
  if (sent.length !== acks.length) throw new Error(`${acks.length} acknowledgement(s) for ${sent.length} record(s) sent`);
  return acks.map((a, i) => ({ topic: a.topic, partition: a.partition, offset: a.offset, key: sent[i]!.key, value: sent[i]!.value }));
}

interface Entry {
  record: DeliveryRecord;
  count: number;
  /** Index into `acked` of the acknowledged record this is, or a duplicate of. */
  ack?: number;
  /** Position of its first consumption. */
  first: number;
}

export function checkDelivery(acked: readonly DeliveryRecord[], consumed: readonly (DeliveryRecord | InRecord)[], opts: DeliveryOptions = {}): DeliveryReport {
  const idempotent = opts.idempotent ?? false;
  const sendOrder = opts.sendOrder ?? true;
  // Each distinct consumed record (topic, partition, offset), with how often it was read.
  const entries = new Map<string, Entry>();
  consumed.forEach((c, i) => {
    const id = `${tpOf(c)}@${c.offset}`;
    const e = entries.get(id);
    if (e) e.count++;
    else entries.set(id, { record: { topic: c.topic, partition: c.partition, offset: c.offset, key: c.key, value: c.value }, count: 1, first: i });
  });
  const claimed: (Entry | undefined)[] = acked.map((a) => {
    if (!knownOffset(a)) return undefined;
    const e = entries.get(`${tpOf(a)}@${a.offset}`);
    return e && e.ack === undefined && contentOf(e.record) === contentOf(a) ? e : undefined;
  });
  claimed.forEach((e, i) => { if (e) e.ack = i; });
  // Offsets unknown (acks=0): the first unclaimed consumed record with the same content.
  const inOrder = [...entries.values()].sort((x, y) => x.first - y.first);
  acked.forEach((a, i) => {
    if (knownOffset(a)) return;
    const e = inOrder.find((x) => x.ack === undefined && contentOf(x.record) === contentOf(a) && (a.partition < 0 || x.record.partition === a.partition));
    if (e) { e.ack = i; claimed[i] = e; }
  });
  // Unclaimed records with an acknowledged record's content are that record written twice.
  const byContent = new Map<string, number>();
  acked.forEach((a, i) => { if (claimed[i] && !byContent.has(contentOf(a))) byContent.set(contentOf(a), i); });
  const extra = new Map<number, number>();
  const unexpected: DeliveryRecord[] = [];
  for (const e of inOrder) {
    if (e.ack !== undefined) continue;
    const i = byContent.get(contentOf(e.record));
    if (i === undefined) unexpected.push(e.record);
    else extra.set(i, (extra.get(i) ?? 0) + e.count);
  }

  const parts = new Map<string, PartitionDelivery>();
  const part = (tp: string) => {
    let p = parts.get(tp);
    if (!p) parts.set(tp, (p = { partition: tp, acked: 0, consumed: 0, lost: [], duplicated: [], reordered: [], unexpected: [] }));
    return p;
  };
  acked.forEach((a, i) => {
    const e = claimed[i];
    const p = part(tpOf(e?.record ?? a));
    p.acked++;
    if (!e) { p.lost.push(a); return; }
    const count = e.count + (extra.get(i) ?? 0);
    if (count > 1) p.duplicated.push({ record: e.record, count });
  });
  for (const c of consumed) part(tpOf(c)).consumed++;
  for (const u of unexpected) part(tpOf(u)).unexpected.push(u);
  // Consumed order: within a partition, each record's first reading comes after those of lower offsets.
  const highest = new Map<string, Entry>();
  for (const e of inOrder) {
    const tp = tpOf(e.record);
    const top = highest.get(tp);
    if (top && BigInt(e.record.offset) < BigInt(top.record.offset)) part(tp).reordered.push({ record: e.record, after: top.record, kind: 'consumed' });
    else highest.set(tp, e);
  }
  // Send order: records sent one after the other to a partition sit at increasing offsets.
  if (sendOrder) {
    const last = new Map<string, DeliveryRecord>();
    acked.forEach((a, i) => {
      const at = claimed[i]?.record ?? (knownOffset(a) ? a : undefined);
      if (!at) return;
      const tp = tpOf(at);
      const before = last.get(tp);
      if (before && BigInt(at.offset) < BigInt(before.offset)) part(tp).reordered.push({ record: at, after: before, kind: 'sent' });
      else last.set(tp, at);
    });
  }

  const partitions = [...parts.values()].sort((x, y) => x.partition.localeCompare(y.partition, undefined, { numeric: true }));
  const sum = (f: (p: PartitionDelivery) => number) => partitions.reduce((n, p) => n + f(p), 0);
  const lost = sum((p) => p.lost.length);
  const duplicates = sum((p) => p.duplicated.reduce((n, d) => n + d.count - 1, 0));
  const reordered = sum((p) => p.reordered.length);
  const unexpectedCount = sum((p) => p.unexpected.length);
  const ok = lost === 0 && reordered === 0 && unexpectedCount === 0 && (!idempotent || duplicates === 0);
  return { ok, idempotent, partitions, lost, duplicates, reordered, unexpected: unexpectedCount, message: describe(partitions, { ok, idempotent, acked: acked.length, consumed: consumed.length, duplicates }) };
}

function describe(partitions: PartitionDelivery[], s: { ok: boolean; idempotent: boolean; acked: number; consumed: number; duplicates: number }): string {
  const lines: string[] = [];
  for (const p of partitions) {
    const found: string[] = [];
    if (p.lost.length) found.push(`${p.lost.length} lost (${p.lost.map(show).join(', ')})`);
    if (p.reordered.length) found.push(`${p.reordered.length} reordered (${p.reordered.map((r) => `${show(r.record)} ${r.kind === 'sent' ? 'sent after' : 'consumed after'} ${show(r.after)}`).join(', ')})`);
    if (p.unexpected.length) found.push(`${p.unexpected.length} unexpected (${p.unexpected.map(show).join(', ')})`);
    if (p.duplicated.length) found.push(`${p.duplicated.length} duplicated${s.idempotent ? '' : ' (allowed: no idempotence)'} (${p.duplicated.map((d) => `${show(d.record)} ×${d.count}`).join(', ')})`);
    if (found.length) lines.push(`${p.partition}: ${found.join('; ')}`);
  }
  if (!lines.length) return '';
  const head = `delivery ${s.ok ? 'ok' : 'FAILED'}: ${s.acked} acknowledged, ${s.consumed} consumed, idempotence ${s.idempotent ? 'on' : 'off'}`;
  return `${head}\n${lines.join('\n')}`;
}

/**
 * The first delivery of each record (topic, partition, offset), in the order consumed; the
 * records delivered again are recorded on the cell as allowed duplicates. For scenarios that
 * compare what a member read as a list, with a producer without idempotence: a member that lost
 * its group membership reads again from the last commit, which is at-least-once, not a failure.
 */
export function firstDeliveries<T extends DeliveryRecord | InRecord>(consumed: readonly T[]): T[] {
  const seen = new Map<string, { record: T; count: number }>();
  for (const c of consumed) {
    const id = `${tpOf(c)}@${c.offset}`;
    const e = seen.get(id);
    if (e) e.count++;
    else seen.set(id, { record: c, count: 1 });
  }
  const again = [...seen.values()].filter((e) => e.count > 1);
  if (again.length) recordDuplicates(`read again (a member re-read from the last commit): ${again.map((e) => `${tpOf(e.record)} ${show(e.record)} ×${e.count}`).join(', ')}`);
  return [...seen.values()].map((e) => e.record);
}

/**
 * Checks delivery and fails with the checker's one message when it is wrong; allowed duplicates
 * are recorded on the cell (results model `duplicates`). Returns the report.
 */
export function expectDelivery(acked: readonly DeliveryRecord[], consumed: readonly (DeliveryRecord | InRecord)[], opts: DeliveryOptions = {}): DeliveryReport {
  const report = checkDelivery(acked, consumed, opts);
  if (!report.ok) throw new Error(report.message);
  if (report.duplicates > 0) {
    for (const p of report.partitions) {
      if (p.duplicated.length) recordDuplicates(`${p.partition}: ${p.duplicated.map((d) => `${show(d.record)} ×${d.count}`).join(', ')}`);
    }
  }
  return report;
}

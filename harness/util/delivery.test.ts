import { describe, expect, it } from 'vitest';
import { acknowledged, checkDelivery, expectDelivery, firstDeliveries, type DeliveryRecord } from './delivery.js';
import { takeDuplicates } from './delivery-log.js';

const rec = (partition: number, offset: number | string, value: string, key: string | null = 'k', topic = 't'): DeliveryRecord => ({ topic, partition, offset: String(offset), key, value });
const three = [rec(0, 0, 'a'), rec(0, 1, 'b'), rec(0, 2, 'c')];

describe('checkDelivery', () => {
  it('exact delivery: ok, nothing reported, empty message', () => {
    const r = checkDelivery(three, three);
    expect(r).toMatchObject({ ok: true, lost: 0, duplicates: 0, reordered: 0, unexpected: 0, message: '' });
    expect(r.partitions).toEqual([{ partition: 't/0', acked: 3, consumed: 3, lost: [], duplicated: [], reordered: [], unexpected: [] }]);
  });

  it('loss is always a failure, named per partition', () => {
    const acked = [...three, rec(1, 0, 'd')];
    const r = checkDelivery(acked, [three[0]!, three[2]!]);
    expect(r.ok).toBe(false);
    expect(r.lost).toBe(2);
    expect(r.partitions.find((p) => p.partition === 't/0')!.lost).toEqual([three[1]]);
    expect(r.partitions.find((p) => p.partition === 't/1')!.lost).toEqual([acked[3]]);
    expect(r.message).toMatch(/^delivery FAILED: 4 acknowledged, 2 consumed, idempotence off/);
    expect(r.message).toContain('t/0: 1 lost (1:k="b")');
    expect(r.message).toContain('t/1: 1 lost (0:k="d")');
  });

  it('without idempotence a replayed record is counted and shown, not a failure', () => {
    const r = checkDelivery(three, [...three, three[0]!, three[1]!]);
    expect(r.ok).toBe(true);
    expect(r.duplicates).toBe(2);
    expect(r.partitions[0]!.duplicated).toEqual([{ record: three[0], count: 2 }, { record: three[1], count: 2 }]);
    expect(r.reordered).toBe(0);
    expect(r.message).toContain('t/0: 2 duplicated (allowed: no idempotence) (0:k="a" ×2, 1:k="b" ×2)');
  });

  it('with idempotence a duplicate is a failure', () => {
    const r = checkDelivery(three, [...three, three[2]!], { idempotent: true });
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/^delivery FAILED: .*idempotence on\nt\/0: 1 duplicated \(2:k="c" ×2\)$/);
  });

  it('a record written twice at another offset (a producer retry) is a duplicate of the acknowledged one', () => {
    const consumed = [...three, rec(0, 3, 'c')];
    expect(checkDelivery(three, consumed)).toMatchObject({ ok: true, duplicates: 1, unexpected: 0 });
    expect(checkDelivery(three, consumed, { idempotent: true }).ok).toBe(false);
  });

  it('reordering within a partition is a failure; across partitions it is not', () => {
    const r = checkDelivery(three, [three[0]!, three[2]!, three[1]!]);
    expect(r.ok).toBe(false);
    expect(r.partitions[0]!.reordered).toEqual([{ record: three[1], after: three[2], kind: 'consumed' }]);
    expect(r.message).toContain('1 reordered (1:k="b" consumed after 2:k="c")');
    const two = [rec(0, 0, 'a'), rec(1, 0, 'x'), rec(0, 1, 'b'), rec(1, 1, 'y')];
    expect(checkDelivery(two, [two[1]!, two[3]!, two[0]!, two[2]!]).ok).toBe(true);
  });

  it('records sent in order but stored at decreasing offsets are reordered (sendOrder)', () => {
    const acked = [rec(0, 1, 'a'), rec(0, 0, 'b')];
    const consumed = [acked[1]!, acked[0]!];
    const r = checkDelivery(acked, consumed);
    expect(r.ok).toBe(false);
    expect(r.partitions[0]!.reordered).toEqual([{ record: acked[1], after: acked[0], kind: 'sent' }]);
    expect(checkDelivery(acked, consumed, { sendOrder: false }).ok).toBe(true);
  });

  it('a consumed record nobody acknowledged is unexpected, and so is other content at an acknowledged offset', () => {
    const r = checkDelivery(three.slice(0, 2), [three[0]!, rec(0, 1, 'B'), rec(0, 2, 'zzz')]);
    expect(r.ok).toBe(false);
    expect(r.unexpected).toBe(2);
    expect(r.lost).toBe(1);
    expect(r.message).toContain('1 lost (1:k="b"); 2 unexpected (1:k="B", 2:k="zzz")');
  });

  it('acks=0 (offset -1): matched by content, order still checked by the consumed offsets', () => {
    const acked = [rec(0, -1, 'a'), rec(0, -1, 'b'), rec(0, -1, 'c')];
    expect(checkDelivery(acked, three).ok).toBe(true);
    const swapped = [rec(0, 0, 'b'), rec(0, 1, 'a'), rec(0, 2, 'c')];
    const r = checkDelivery(acked, swapped);
    expect(r.ok).toBe(false);
    expect(r.partitions[0]!.reordered[0]).toMatchObject({ kind: 'sent', record: swapped[0], after: swapped[1] });
    expect(checkDelivery(acked, three.slice(0, 2))).toMatchObject({ ok: false, lost: 1 });
  });

  it('null keys and values take part in the content comparison', () => {
    const acked = [rec(0, 0, 'x', null), { ...rec(0, 1, 'x'), value: null }];
    expect(checkDelivery(acked, acked).ok).toBe(true);
    expect(checkDelivery(acked, [acked[0]!, { ...acked[1]!, value: '' }]).ok).toBe(false);
  });

  it('a record never read is lost, duplicates of others or not', () => {
    const r = checkDelivery(three, [three[0]!, three[0]!, three[1]!]);
    expect(r).toMatchObject({ ok: false, lost: 1, duplicates: 1 });
  });
});

describe('firstDeliveries', () => {
  it('keeps the first delivery of each record, in the order read, and records the others on the cell', () => {
    takeDuplicates();
    const again = [three[0]!, three[1]!, three[0]!, three[1]!, three[2]!];
    expect(firstDeliveries(again)).toEqual(three);
    expect(takeDuplicates()).toEqual([expect.stringMatching(/^read again .*: t\/0 0:k="a" ×2, t\/0 1:k="b" ×2$/)]);
    expect(firstDeliveries(three)).toEqual(three);
    expect(takeDuplicates()).toEqual([]);
  });
});

describe('acknowledged', () => {
  it('zips what was sent with where it was acknowledged, and refuses a count mismatch', () => {
    expect(acknowledged([{ key: 'k', value: 'v' }], [{ topic: 't', partition: 2, offset: '7' }])).toEqual([rec(2, 7, 'v')]);
    expect(() => acknowledged([{ key: 'k', value: 'v' }], [])).toThrow('0 acknowledgement(s) for 1 record(s) sent');
  });
});

describe('expectDelivery', () => {
  it('throws the one message on failure', () => {
    takeDuplicates();
    expect(() => expectDelivery(three, three.slice(1))).toThrow(/^delivery FAILED: 3 acknowledged, 2 consumed[^]*t\/0: 1 lost \(0:k="a"\)/);
  });

  it('records allowed duplicates for the cell, and nothing when delivery was exact', () => {
    takeDuplicates();
    expectDelivery(three, three);
    expect(takeDuplicates()).toEqual([]);
    expect(expectDelivery(three, [...three, three[0]!]).duplicates).toBe(1);
    expect(takeDuplicates()).toEqual(['t/0: 0:k="a" ×2']);
  });
});

import { describe, expect, it } from 'vitest';
import { distinctRecords, resumeOffsets } from './consume-count.js';

const r = (offset: number, partition = 0, topic = 't') => ({ topic, partition, offset: String(offset) });

describe('a consume counts distinct records', () => {
  it('a record delivered again is not counted; the same offset elsewhere is another record', () => {
    const d = distinctRecords();
    expect([r(0), r(1), r(0), r(1), r(2)].map((x) => d.add(x))).toEqual([1, 2, 2, 2, 3]);
    expect(d.add(r(0, 1))).toBe(4);
    expect(d.add(r(0, 0, 'u'))).toBe(5);
    expect(d.size).toBe(5);
  });

  it('resumes one past the highest offset of each partition, even when an earlier record came last', () => {
    expect(resumeOffsets([r(0), r(1), r(2), r(0), r(5, 1), r(4, 1)])).toEqual([
      { topic: 't', partition: 0, offset: 3n },
      { topic: 't', partition: 1, offset: 6n },
    ]);
    expect(resumeOffsets([])).toEqual([]);
  });
});

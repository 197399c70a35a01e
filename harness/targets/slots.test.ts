// The order in which a scenario file visits the targets: spread over the files, the targets whose
// tests take turns first.
import { describe, expect, it } from 'vitest';
import { visitOrder, type TargetSlot } from './slots.js';
import type { TargetInfo } from './types.js';

const started = (id: string, oneTestAtATime = false): TargetSlot => ({ id, state: 'started', info: { id, oneTestAtATime } as unknown as TargetInfo });
const slots: TargetSlot[] = [started('kop'), started('kafka'), started('live'), { id: 'container', state: 'not-run', reason: 'no engine' }, started('gdn', true)];
const ids = (s: TargetSlot[]) => s.map((x) => x.id);

describe('visitOrder', () => {
  it('the slowest file starts on the target whose tests take turns; the next files one target further each', () => {
    expect(ids(visitOrder(slots, 0))).toEqual(['gdn', 'kop', 'kafka', 'live', 'container']);
    expect(ids(visitOrder(slots, 1))).toEqual(['kop', 'kafka', 'live', 'gdn', 'container']);
    expect(ids(visitOrder(slots, 2))).toEqual(['kafka', 'live', 'gdn', 'kop', 'container']);
    expect(ids(visitOrder(slots, 5))).toEqual(ids(visitOrder(slots, 1)));
  });

  it('keeps every slot once; a file the table lacks starts like the slowest; no started target: as given', () => {
    expect(ids(visitOrder(slots, undefined))).toEqual(ids(visitOrder(slots, 0)));
    expect(new Set(ids(visitOrder(slots, 3))).size).toBe(slots.length);
    const none: TargetSlot[] = [{ id: 'container', state: 'not-run', reason: 'x' }];
    expect(ids(visitOrder(none, 2))).toEqual(['container']);
  });
});

import { describe, expect, it } from 'vitest';
import { takeRetries } from './retry-log.js';
import { RETIME_BELOW, timeRefusal } from './timed-refusal.js';

const refused = new Error('refused');
/** An attempt that is refused after the given delays, one per call (the last one repeats). */
function refusalAfter(...delaysMs: number[]): () => Promise<unknown> {
  let call = 0;
  return () => new Promise((_, reject) => setTimeout(() => reject(refused), delaysMs[Math.min(call++, delaysMs.length - 1)]));
}
const isRefused = (e: unknown) => e === refused;
// Bound 1 s; "just over" is 1 050 ms, so a busy event loop has 1 450 ms before the window (2.5 s) ends.
const BOUND = 1000;

describe('timeRefusal', () => {
  it('times a quick refusal once, and records nothing', async () => {
    takeRetries();
    const r = await timeRefusal('login', BOUND, refusalAfter(10), isRefused);
    expect(r.err).toBe(refused);
    expect(r.ms).toBeLessThan(BOUND);
    expect(takeRetries()).toEqual([]);
  });

  it('times a refusal just over the bound once more, and records the slow one on the cell', async () => {
    takeRetries();
    const r = await timeRefusal('login', BOUND, refusalAfter(1050, 10), isRefused);
    expect(r.ms).toBeLessThan(BOUND);
    const retries = takeRetries();
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatch(/^SLOW_REFUSAL: login took 1\d{3} ms \(bound 1000 ms\); timed again: \d+ ms$/);
  });

  it('still reports a slow refusal when the endpoint is slow both times', async () => {
    takeRetries();
    const r = await timeRefusal('login', BOUND, refusalAfter(1050, 1050), isRefused);
    expect(r.ms).toBeGreaterThanOrEqual(BOUND);
    expect(takeRetries()).toHaveLength(1);
  });

  it('does not time again a refusal that waited out a timeout, or that came with another error', async () => {
    takeRetries();
    const lateMs = BOUND * RETIME_BELOW;
    const late = await timeRefusal('login', BOUND, refusalAfter(lateMs, 10), isRefused);
    expect(late.ms).toBeGreaterThanOrEqual(lateMs);
    const other = await timeRefusal('login', BOUND, refusalAfter(1050, 10), () => false);
    expect(other.ms).toBeGreaterThanOrEqual(BOUND);
    expect(takeRetries()).toEqual([]);
  });
});

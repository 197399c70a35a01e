// Which families the live self-test runs, from KOPC_LIVE_SELFTEST_FAMILIES.
import { describe, expect, it } from 'vitest';
import { LIVE_SELFTEST_FAMILIES, liveSelfTestFamilies } from './self-test.js';

describe('live self-test families', () => {
  it('defaults to the families where the live-target path plays a part', () => {
    expect(liveSelfTestFamilies({})).toEqual(LIVE_SELFTEST_FAMILIES);
    expect(LIVE_SELFTEST_FAMILIES).toContain('live-target');
    expect(LIVE_SELFTEST_FAMILIES).not.toContain('cross-client');
  });
  it('takes all, or a list', () => {
    expect(liveSelfTestFamilies({ KOPC_LIVE_SELFTEST_FAMILIES: 'all' })).toBe('all');
    expect(liveSelfTestFamilies({ KOPC_LIVE_SELFTEST_FAMILIES: ' ssl, topics ' })).toEqual(['ssl', 'topics']);
  });
});

import { describe, expect, it } from 'vitest';
import { renderHtml } from './html.js';
import type { CellResult } from './model.js';

const cell = (target: string): CellResult => ({
  scenarioId: 'produce.batch-order', title: 't', family: 'produce-consume', target, client: 'kafkajs', status: 'pass', durationMs: 1,
  file: 'suites/produce-consume/produce-consume.test.ts', rerun: 'x',
});

describe('cell details', () => {
  it('list a cell\'s recorded retries and duplicates, and mark retried cells in the matrix', () => {
    const c: CellResult = { ...cell('kafka'), retries: ['NOT_LEADER_FOR_PARTITION: sent again (retry 1 of 2) <x>'], duplicates: ['t/0: offset 3 read twice'] };
    const html = renderHtml({ startedAt: 'a', finishedAt: 'b', targets: [], cells: [c] });
    expect(html).toContain('bounded retries (of retriable errors, or of a try the machine was suspended in) (1):</p><ul><li>NOT_LEADER_FOR_PARTITION: sent again (retry 1 of 2) &lt;x&gt;</li>');
    expect(html).toContain('duplicates allowed (no idempotence) and seen (1):</p><ul><li>t/0: offset 3 read twice</li>');
    expect(html).toContain('pass ↻1</a>');
    expect(renderHtml({ startedAt: 'a', finishedAt: 'b', targets: [], cells: [cell('kafka')] })).not.toContain('bounded retries');
  });
});

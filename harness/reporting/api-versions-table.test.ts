import { describe, expect, it } from 'vitest';
import { renderApiVersionsTable } from './api-versions-table.js';
import { renderHtml } from './html.js';
import type { CellResult, RunResults } from './model.js';

const cell = (target: string, apiVersions?: CellResult['apiVersions']): CellResult => ({
  scenarioId: 'api-versions.client-needs', title: 't', family: 'api-versions', target, client: 'kafkajs', status: 'pass', durationMs: 1,
  file: 'suites/api-versions/api-versions.test.ts', rerun: 'x', ...(apiVersions ? { apiVersions } : {}),
});

describe('API-version table', () => {
  const run: RunResults = {
    startedAt: 'a', finishedAt: 'b', targets: [],
    cells: [
      cell('kop', [{ key: 0, name: 'Produce', min: 0, max: 6 }, { key: 18, name: 'ApiVersions', min: 0, max: 3 }]),
      cell('kafka', [{ key: 0, name: 'Produce', min: 0, max: 11 }, { key: 18, name: 'ApiVersions', min: 0, max: 3 }, { key: 68, name: 'ConsumerGroupHeartbeat', min: 0, max: 0 }]),
      cell('kop'),
    ],
  };

  it('puts the reference Kafka first, shades narrower ranges and marks what a target lacks', () => {
    const html = renderApiVersionsTable(run);
    expect(html).toMatch(/<th>kafka<\/th><th>kop<\/th>/);
    expect(html).toContain('<td class="api narrower" data-api="0" data-target="kop">0–6</td>');
    expect(html).toContain('<td class="api" data-api="18" data-target="kop">0–3</td>');
    expect(html).toContain('<td class="api missing" data-api="68" data-target="kop">missing</td>');
    expect(html).toMatch(/Produce \(0\) <small>needed<\/small>/);
  });

  it('is on the matrix page when the run asked, and absent when no cell carried a map', () => {
    expect(renderHtml(run)).toContain('API versions per target');
    expect(renderHtml({ ...run, cells: [cell('kop')] })).not.toContain('API versions per target');
  });
});

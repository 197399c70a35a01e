// The matrix page as a person sees it: rendered by headless Chromium (Debian's package,
// driven by playwright-core), with the right number of cells per status and no network call.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chromiumMissing, launchChromium } from './browser.js';
import { renderHtml } from './html.js';
import type { CellResult, CellStatus, RunResults } from './model.js';

function cell(target: string, client: string, scenarioId: string, status: CellStatus): CellResult {
  return {
    scenarioId, title: `${scenarioId} title`, family: scenarioId.split('.')[0]!, target, client, clientVersion: '1.0',
    status, durationMs: 5, message: status === 'pass' ? undefined : `why ${status} <script>alert(1)</script>`,
    file: 'suites/x.test.ts', rerun: `KOPC_TARGETS=${target} npx vitest run -t '${scenarioId}'`,
  };
}

describe('compatibility matrix page', () => {
  it('renders one table per target with the right number of cells per status, offline', async (ctx) => {
    const missing = chromiumMissing();
    if (missing) ctx.skip(missing);
    const statuses: CellStatus[] = ['pass', 'fail', 'known-failure', 'unexpected-pass', 'not-applicable', 'not-run', 'flaky'];
    const cells: CellResult[] = [];
    for (const target of ['kafka', 'kop']) {
      ['kafkajs', 'java-2.8.0', 'kafka-python-2.0.2'].forEach((client, ci) => {
        ['sasl-plain.login', 'ssl.wrong-ca', 'produce.batch-order', 'groups.commit-sync.resume'].forEach((sc, si) => {
          cells.push(cell(target, client, sc, target === 'kop' ? 'not-run' : statuses[(ci * 4 + si) % statuses.length]!));
        });
      });
    }
    const run: RunResults = {
      startedAt: '2026-11-24T08:00:00Z', finishedAt: '2026-11-24T08:07:00Z',
      targets: [{ id: 'kafka', state: 'started', description: 'Apache Kafka 3.9.1' }, { id: 'kop', state: 'not-run', reason: 'not run: KoP NAR not served' }],
      cells,
    };
    const file = join(mkdtempSync(join(tmpdir(), 'kopc-matrix-')), 'index.html');
    writeFileSync(file, renderHtml(run));

    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(`file://${file}`);
      expect(await page.locator('table.matrix').count()).toBe(2);
      for (const target of ['kafka', 'kop']) {
        const table = page.locator(`table.matrix[data-target="${target}"]`);
        for (const s of statuses) {
          const want = cells.filter((c) => c.target === target && c.status === s).length;
          expect(await table.locator(`td.cell[data-status="${s}"]`).count(), `${target} ${s}`).toBe(want);
        }
      }
      // A cell links to its details, which carry the re-run command; messages are escaped.
      const first = page.locator('table.matrix[data-target="kafka"] td.cell a').first();
      const href = await first.getAttribute('href');
      expect(await page.locator(`${href} code`).last().textContent()).toContain('npx vitest run');
      expect(await page.locator('script').count()).toBe(0);
      await page.screenshot({ path: join(tmpdir(), 'kopc-matrix.png'), fullPage: true });
      expect(requests.filter((u) => !u.startsWith('file://') && !u.startsWith('data:')), 'network requests').toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});

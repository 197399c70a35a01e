// The matrix page as a person sees it: rendered by headless Chromium (Debian's package,
// driven by playwright-core), with the right number of cells per status and no network call.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chromiumMissing, launchChromium } from './browser.js';
import { renderHtml } from './html.js';
import type { CellResult, CellStatus, RunResults } from './model.js';
import { buildBreakdown, DRIVER_READY, TARGET_TOTAL, type TimingEntry } from './timings.js';

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
    cells.forEach((c, i) => { c.durationMs = 100 * (i + 1); c.startTime = Date.parse(run.startedAt) + i * 50; });
    cells.at(-1)!.waits = ['driver java-2.8.0 started: 2.1 s'];
    const at = run.startedAt;
    const entries: TimingEntry[] = [
      { scope: 'target', id: 'kafka', step: 'reference Kafka: resolve from Maven Central', ms: 1200, at, pid: 1 },
      { scope: 'target', id: 'kafka', step: TARGET_TOTAL, ms: 9400, at, pid: 1 },
      { scope: 'client', id: 'java-2.8.0', step: DRIVER_READY, ms: 2100, at, pid: 2 },
    ];
    run.timings = buildBreakdown(cells, entries, run.startedAt, run.finishedAt);
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
      // The only scripts: the inlined chart library and the timing charts' drawing (no src).
      expect(await page.locator('script').count()).toBe(2);
      expect(await page.locator('script[src]').count()).toBe(0);
      await page.waitForSelector('body[data-timing-charts]', { timeout: 10_000 });
      expect(await page.getAttribute('body', 'data-timing-charts')).toBe('2');
      for (const id of ['chart-timing-families', 'chart-timing-targets']) {
        const box = await page.locator(`canvas#${id}`).boundingBox();
        expect(box?.width, id).toBeGreaterThan(100);
        expect(box?.height, id).toBeGreaterThan(100);
        // Something was drawn: the canvas holds pixels that are not transparent.
        const inked = await page.evaluate((cid) => {
          const c = document.getElementById(cid) as HTMLCanvasElement;
          const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
          return n;
        }, id);
        expect(inked, `${id} drawn`).toBeGreaterThan(500);
      }
      // The timing breakdown: broker start per target, driver preparation per client, families, slowest cells.
      const timings = page.locator('section#timings');
      expect(await timings.locator('.wall').textContent()).toBe('7 min 0 s');
      const targetRow = timings.locator('table.timings[data-kind="targets"] tbody tr').first();
      expect(await targetRow.locator('td').allTextContents()).toEqual(['kafka', '9.4 s', 'start (total) 9.4 s' + 'reference Kafka: resolve from Maven Central 1.2 s', '12', '1.8 s', '7.8 s']);
      expect(await timings.locator('table.timings[data-kind="clients"] tbody tr td').allTextContents()).toEqual(['java-2.8.0', '2.1 s', '1', '2.1 s', `${DRIVER_READY} 2.1 s`]);
      expect(await timings.locator('table.timings[data-kind="families"] tbody tr').count()).toBe(4);
      const slow = timings.locator('table.timings[data-kind="slowest"] tbody tr');
      expect(await slow.count()).toBe(10);
      expect(await slow.first().locator('td').allTextContents()).toEqual(['kop × kafka-python-2.0.2 × groups.commit-sync.resume (groups)', '2.4 s', 'driver java-2.8.0 started: 2.1 s']);
      await page.screenshot({ path: join(tmpdir(), 'kopc-matrix.png'), fullPage: true });
      expect(requests.filter((u) => !u.startsWith('file://') && !u.startsWith('data:')), 'network requests').toEqual([]);
    } finally {
      await browser.close();
    }
  }, 180_000);
});

// The bench page as a person sees it: a small synthetic bench.json rendered, opened in headless
// Chromium (Debian's package, driven by playwright-core): the charts drew (canvases of real size
// with ink on them), the ratio table holds the figures, and the page made no network request.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chromiumMissing, launchChromium } from '../reporting/browser.js';
import { renderBenchPage } from './bench-page.js';
import { ratioTable, summarizeLatency, type BenchReport, type BenchRow } from './stats.js';

function row(target: string, client: string, scale: number): BenchRow {
  const us = Array.from({ length: 400 }, (_, i) => (1000 + i * 37 + (i % 7) * 400) * scale);
  return {
    target, client, clientVersion: '1.0', errors: [],
    produce: { records: 20000, recordsPerSec: 40000 / scale, mbPerSec: 3.8 / scale, elapsedMs: 500 * scale },
    consume: { records: 20001, recordsPerSec: 90000 / scale, mbPerSec: 8.6 / scale, elapsedMs: 222 * scale },
    latency: summarizeLatency(us, 400),
  };
}

function syntheticReport(): BenchReport {
  const rows = [row('kafka', 'kafkajs', 1), row('kop', 'kafkajs', 2), row('gdn', 'kafkajs', 4), row('kafka', 'java-4.4.0', 0.5), row('kop', 'java-4.4.0', 1)];
  rows.push({ target: 'gdn', client: 'java-4.4.0', errors: [{ phase: 'consume', message: 'TIMEOUT: consumed 3 of 20001 <b>records</b>' }],
    produce: { records: 20000, recordsPerSec: 10000, mbPerSec: 1, elapsedMs: 2000 } });
  return {
    startedAt: '2026-12-02T15:00:00Z', finishedAt: '2026-12-02T15:02:10Z', command: 'kop-conformance bench --records 20000',
    settings: { records: 20000, size: 100, rate: 200, durationMs: 5000, acks: 'all', partitions: 1, protocol: 'SASL_PLAINTEXT' },
    machine: { cpus: 2, loadAvgStart: [1, 2, 3], loadAvgEnd: [2, 2, 3], node: 'v20' },
    targets: [{ id: 'kafka', state: 'started', description: 'Apache Kafka 3.9.1' }, { id: 'kop', state: 'started', description: 'KoP' }, { id: 'gdn', state: 'started', description: 'gdn' }],
    clients: ['kafkajs', 'java-4.4.0'], rows, ratios: ratioTable(rows),
    driverOverhead: { clientVersion: '4.4.0', toolVersion: '4.4.0', records: 200000, recordSize: 100, acks: 'all', nativeRecordsPerSec: [80000, 82000], driverRecordsPerSec: [78000, 79000], ratio: 0.957, goal: 0.9 },
  };
}

describe('bench page', () => {
  it('draws throughput bars and one latency CDF per client, shows the ratios, and requests nothing', async (ctx) => {
    const missing = chromiumMissing();
    if (missing) ctx.skip(missing);
    const file = join(mkdtempSync(join(tmpdir(), 'kopc-bench-')), 'index.html');
    writeFileSync(file, renderBenchPage(syntheticReport()));
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`file://${file}`);
      await page.waitForSelector('body[data-charts]', { timeout: 10_000 });
      expect(errors).toEqual([]);
      expect(await page.getAttribute('body', 'data-charts')).toBe('4'); // 2 bar charts + 2 CDFs
      expect(await page.locator('script[src]').count()).toBe(0);
      for (const id of ['chart-produce', 'chart-consume', 'cdf-kafkajs', 'cdf-java-4.4.0']) {
        const canvas = page.locator(`canvas[id="${id}"]`);
        const box = await canvas.boundingBox();
        expect(box?.width, id).toBeGreaterThan(200);
        expect(box?.height, id).toBeGreaterThan(200);
        const inked = await canvas.evaluate((c: HTMLCanvasElement) => {
          const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
          return n;
        });
        expect(inked, `${id} drawn`).toBeGreaterThan(1000);
      }
      // The ratio table: kop/kafka and gdn/kafka for kafkajs, kop/kafka for Java (its gdn row has no latency).
      const ratios = page.locator('table.ratios tbody tr');
      expect(await ratios.count()).toBe(4);
      expect(await page.locator('table.ratios tr[data-client="kafkajs"][data-pair="kop/kafka"] td').allTextContents()).toEqual(['kop/kafka', '0.50', '0.50', '2.00', '2.00', '2.00']);
      expect(await page.locator('table.ratios tr[data-client="java-4.4.0"][data-pair="gdn/kafka"] td').allTextContents()).toEqual(['gdn/kafka', '0.13', '–', '–', '–', '–']);
      expect(await page.locator('#overhead strong').textContent()).toBe('0.96');
      // Errors are shown, escaped.
      expect(await page.locator('table.rows tr[data-target="gdn"][data-client="java-4.4.0"] td.err').textContent()).toBe('consume: TIMEOUT: consumed 3 of 20001 <b>records</b>');
      await page.screenshot({ path: join(tmpdir(), 'kopc-bench.png'), fullPage: true });
      expect(requests.filter((u) => !u.startsWith('file://') && !u.startsWith('data:')), 'network requests').toEqual([]);
      expect(requests.filter((u) => u.startsWith('file://')), 'only the page itself').toEqual([`file://${file}`]);
    } finally {
      await browser.close();
    }
  }, 180_000);
});

// The Allure report as a person opens it: the single-file page built by buildAllureSingleFile
// (Allure 2 from Maven Central) from allure-vitest style results, rendered by headless Chromium.
// It must show the tests and make no network call (Allure's analytics tag is stripped).
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chromiumMissing, launchChromium } from './browser.js';
import { buildAllureSingleFile } from './allure-html.js';

function result(name: string, status: 'passed' | 'failed' | 'skipped', client: string): Record<string, unknown> {
  const now = Date.now();
  return {
    uuid: randomUUID(), historyId: randomUUID(), testCaseId: randomUUID(), name, fullName: `suites/x.test.ts#${name} ${client}`,
    status, stage: 'finished', start: now - 50, stop: now, steps: [], attachments: [],
    statusDetails: status === 'failed' ? { message: `${name} failed on purpose` } : {},
    labels: [{ name: 'parentSuite', value: name.split('.')[0] }, { name: 'suite', value: 'target kafka' }, { name: 'subSuite', value: `client ${client}` }, { name: 'feature', value: name.split('.')[0] }],
    parameters: [{ name: 'target', value: 'kafka' }, { name: 'client', value: client }],
  };
}

describe('Allure single-file report', () => {
  it('renders the results offline: test names visible, zero network requests', async (ctx) => {
    const missing = chromiumMissing();
    if (missing) ctx.skip(missing);
    const dir = mkdtempSync(join(tmpdir(), 'kopc-allure-'));
    const results = join(dir, 'allure-results');
    mkdirSync(results);
    const tests = [result('sasl-plain.login', 'passed', 'kafkajs 2.2.4'), result('ssl.wrong-ca', 'failed', 'java-4.4.0 4.4.0'), result('admin.delete', 'skipped', 'kafka-node 5.0.0')];
    for (const t of tests) writeFileSync(join(results, `${String(t.uuid)}-result.json`), JSON.stringify(t));
    const page = await buildAllureSingleFile(results, join(dir, 'allure-report'));
    const html = readFileSync(page, 'utf8');
    expect(html).not.toMatch(/googletagmanager|google-analytics|gtag\(/);

    const browser = await launchChromium();
    try {
      const tab = await browser.newPage();
      const requests: string[] = [];
      tab.on('request', (r) => requests.push(r.url()));
      await tab.goto(`file://${page}#suites`);
      for (const t of tests) await expect.poll(() => tab.getByText(String(t.name)).count(), { timeout: 60_000 }).toBeGreaterThan(0);
      expect(requests.filter((u) => !/^(file|data|blob):/.test(u)), 'network requests').toEqual([]);
    } finally {
      await browser.close();
    }
  }, 300_000); // the Allure build alone took 62 s at load 60
});

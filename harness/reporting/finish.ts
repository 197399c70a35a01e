// The end of a run or of a merge of shards: the single-file Allure report and the counts.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAllureSingleFile } from './allure-html.js';
import type { RunResults } from './model.js';
import { reportsDir } from '../util/paths.js';

/** Builds the single-file Allure report and prints the run's counts (after a run or a merge). */
export async function finishReports(dir: string = reportsDir): Promise<void> {
  try {
    const page = await buildAllureSingleFile(join(dir, 'allure-results'), join(dir, 'allure-report'));
    console.log(`allure report: ${page}`);
  } catch (err) {
    console.error(`allure report not built: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  const model = join(dir, 'results-model.json');
  if (existsSync(model)) {
    const run = JSON.parse(readFileSync(model, 'utf8')) as RunResults;
    const counts: Record<string, number> = {};
    for (const c of run.cells) counts[c.status] = (counts[c.status] ?? 0) + 1;
    console.log(`\nconformance: ${Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(', ')}`);
    console.log(`report: ${join(dir, 'index.html')} (markdown: ${join(dir, 'summary.md')})`);
  }
}


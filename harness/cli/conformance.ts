// The main job: the full conformance run (every selected target × client × scenario),
// writing the reports under reports/. Exit code: 0 all cells pass or are explained
// (not run / not applicable), 1 a cell failed, 2 bad usage.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { buildAllureSingleFile } from '../reporting/allure-html.js';
import type { RunResults } from '../reporting/model.js';
import { projectRoot, reportsDir } from '../util/paths.js';

const USAGE = `usage: npm run conformance [-- [--targets kop,kafka,live,container] [--clients kafkajs] [vitest args…]]

Runs the conformance scenarios against the selected targets (default: all) and writes
reports/index.html (compatibility matrix), reports/allure-report/index.html (Allure, one
offline file), reports/junit.xml and reports/results-model.json.

Environment: KOPC_TARGETS, KOPC_CLIENTS (same as the flags); KOPC_PROPERTIES=client.properties
to run the live target against a real endpoint; KOPC_REUSE=1 to keep and reuse embedded brokers
between runs (stop them with: npm run dev-broker -- stop).`;

async function main(argv: string[]): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      console.log(USAGE);
      return 0;
    }
    if (a === '--targets' || a === '--clients') {
      const v = argv[++i];
      if (!v) {
        console.error(`${a} needs a value\n\n${USAGE}`);
        return 2;
      }
      env[a === '--targets' ? 'KOPC_TARGETS' : 'KOPC_CLIENTS'] = v;
    } else rest.push(a);
  }
  const r = await execa('npx', ['vitest', 'run', '--project', 'conformance', ...rest], {
    cwd: projectRoot, env, stdio: 'inherit', reject: false,
  });
  try {
    const page = await buildAllureSingleFile();
    console.log(`allure report: ${page}`);
  } catch (err) {
    console.error(`allure report not built: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  const model = join(reportsDir, 'results-model.json');
  if (existsSync(model)) {
    const run = JSON.parse(readFileSync(model, 'utf8')) as RunResults;
    const counts: Record<string, number> = {};
    for (const c of run.cells) counts[c.status] = (counts[c.status] ?? 0) + 1;
    console.log(`\nconformance: ${Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(', ')}`);
    console.log(`report: ${join(reportsDir, 'index.html')} (markdown: ${join(reportsDir, 'summary.md')})`);
  }
  return r.exitCode ?? 1;
}

process.exitCode = await main(process.argv.slice(2));

// `kop-conformance merge`: the reports of a sharded run. Every shard (`--shard i/n`, one per
// machine) left reports/shards/blobs/blob-i-n.json and reports/shards/targets/shard-i-n.json;
// with all of them in one directory this replays them through the same reporters as a full run.
// Exit codes: 0 every cell passed or is explained, 1 a cell failed, 2 bad usage or missing shards.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { finishReports } from '../reporting/finish.js';
import { TARGETS_FILE } from '../reporting/results-reporter.js';
import { planMerge } from '../reporting/shards.js';
import { TIMINGS_FILE } from '../reporting/timings.js';
import { projectRoot, reportsDir } from '../util/paths.js';

const USAGE = `usage: npx kop-conformance merge [--from DIR]

Builds one set of reports (reports/index.html, summary.md, junit.xml, results-model.json,
allure-report/index.html) from the shards of a sharded run. DIR (default reports/shards) holds
blobs/blob-<i>-<n>.json and targets/shard-<i>-<n>.json from every shard i of n.`;

async function main(argv: string[]): Promise<number> {
  let from = join(reportsDir, 'shards');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      console.log(USAGE);
      return 0;
    }
    if (a === '--from' && argv[i + 1]) from = resolve(argv[++i]!);
    else {
      console.error(`unknown argument ${a}\n\n${USAGE}`);
      return 2;
    }
  }
  let plan;
  try {
    plan = planMerge(from);
  } catch (err) {
    console.error(`merge: ${(err as Error).message}`);
    return 2;
  }
  console.log(`merge: ${plan.blobs.length} shard(s) from ${from}: ${plan.blobs.join(', ')}`);
  mkdirSync(reportsDir, { recursive: true });
  writeFileSync(join(reportsDir, TARGETS_FILE), JSON.stringify(plan.targets, null, 2));
  writeFileSync(join(reportsDir, TIMINGS_FILE), plan.timings.map((t) => JSON.stringify(t) + '\n').join(''));
  const r = await execa('npx', ['vitest', 'run', '--project', 'conformance', `--merge-reports=${plan.blobDir}`], {
    cwd: projectRoot, stdio: 'inherit', reject: false,
    env: { ...process.env, KOPC_RUN_WINDOW: JSON.stringify({ startedAt: plan.startedAt, finishedAt: plan.finishedAt }) },
  });
  await finishReports();
  return r.exitCode ?? 1;
}

process.exitCode = await main(process.argv.slice(2));

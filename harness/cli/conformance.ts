// The main job: the full conformance run (every selected target × client × scenario),
// writing the reports under reports/. Exit code: 0 all cells pass or are explained
// (not run / not applicable), 1 a cell failed, 2 bad usage.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { selectedClients } from '../clients/registry.js';
import { validateManifests } from '../expectations.js';
import { knownScenarioIds, patternsOverlap } from '../scenario-ids.js';
import { finishReports } from '../reporting/finish.js';
import { prepareAllureCli } from '../reporting/allure-html.js';
import { selectedTargetIds } from '../targets/slots.js';
import { parseShard, shardDirs, writeShardMeta, type Shard } from '../reporting/shards.js';
import { projectRoot, reportsDir } from '../util/paths.js';
import { runWithBars, ttyProgressWanted } from './tty-run.js';

const USAGE = `usage: npm run conformance [-- [--targets kop,kafka,live,container] [--clients kafkajs,java-2.8.0]
                                         [--family ssl,admin] [--scenario sasl-plain.expired-jwt]
                                         [--shard i/n] [vitest args…]]

Runs the conformance scenarios against the selected targets (default: all) and writes
reports/index.html (compatibility matrix), reports/allure-report/index.html (Allure, one
offline file), reports/junit.xml and reports/results-model.json.

--family runs only those scenario families (the folders of suites/); --scenario only the
scenarios with that id (or id prefix), for every selected target × client.

--shard i/n runs the i-th of n slices of the scenario files (vitest sharding) on this machine,
with its own embedded brokers, and writes reports/shards/ instead of the reports; copy every
shard's reports/shards/ into one and run \`npx kop-conformance merge\` to build the reports.

Environment: KOPC_TARGETS, KOPC_CLIENTS (same as the flags); KOPC_PROPERTIES=client.properties
to run the live target against a real endpoint; KOPC_REUSE=1 to keep and reuse embedded brokers
between runs (stop them with: npm run dev-broker -- stop).`;

async function main(argv: string[]): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  const rest: string[] = [];
  let shard: Shard | undefined;
  const families: string[] = [];
  const scenarioIds: string[] = [];
  const shardRoot = join(reportsDir, 'shards');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      console.log(USAGE);
      return 0;
    }
    if (a === '--shard') {
      try {
        shard = parseShard(argv[++i] ?? '');
      } catch (err) {
        console.error(`${(err as Error).message}\n\n${USAGE}`);
        return 2;
      }
      continue;
    }
    if (['--targets', '--clients', '--family', '--scenario'].includes(a)) {
      const v = argv[++i];
      if (!v) {
        console.error(`${a} needs a value\n\n${USAGE}`);
        return 2;
      }
      if (a === '--targets') env.KOPC_TARGETS = v;
      else if (a === '--clients') env.KOPC_CLIENTS = v;
      else if (a === '--family') families.push(...v.split(',').map((f) => f.trim()).filter(Boolean));
      else scenarioIds.push(v.trim());
    } else rest.push(a);
  }
  // Bad selections fail here, in one line, before any broker starts.
  try {
    selectedTargetIds(env);
    selectedClients(env);
    const known = readdirSync(join(projectRoot, 'suites'), { withFileTypes: true }).filter((d) => d.isDirectory() && d.name !== 'expectations').map((d) => d.name);
    const unknown = families.filter((f) => !known.includes(f));
    if (unknown.length) throw new Error(`--family: unknown family ${unknown.join(', ')}; known: ${known.join(', ')}`);
    const ids = knownScenarioIds();
    const strays = scenarioIds.filter((s) => !ids.some((id) => patternsOverlap(`${s}*`, id)));
    if (strays.length) throw new Error(`--scenario: no scenario id is or starts with ${strays.join(', ')} (the ids are the names' first word, e.g. ${ids[0]})`);
    validateManifests();
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  rest.push(...families.map((f) => `suites/${f}/`));
  // Naming faults.broker-restart is asking for its private brokers (off in a run of everything).
  if (scenarioIds.some((id) => patternsOverlap(`${id}*`, 'faults.broker-restart'))) env.KOPC_BROKER_RESTART ??= '1';
  // Scenario names start with their id and a colon: match the id (or a prefix of ids) there.
  if (scenarioIds.length) rest.push('-t', `^(.* )?(${scenarioIds.map((id) => id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})[^ ]*:`);
  if (shard) {
    const blobs = shardDirs(shardRoot).blobs;
    rest.push(`--shard=${shard.index}/${shard.count}`, '--reporter=default', '--reporter=blob', `--outputFile.blob=${join(blobs, `blob-${shard.index}-${shard.count}.json`)}`);
  }
  // The report's Allure command line resolves beside the run (a first run would wait for it at the end).
  if (!shard) prepareAllureCli().catch(() => undefined);
  const startedAt = new Date().toISOString();
  const r = ttyProgressWanted()
    ? await runWithBars(['vitest', 'run', '--project', 'conformance', ...rest], env)
    : await execa('npx', ['vitest', 'run', '--project', 'conformance', ...rest], { cwd: projectRoot, env, stdio: 'inherit', reject: false });
  if (shard) {
    const meta = writeShardMeta(shardRoot, shard, reportsDir, startedAt);
    console.log(`\nshard ${shard.index}/${shard.count}: results in ${shardRoot} (targets: ${meta}); when every shard is there: npx kop-conformance merge`);
    return r.exitCode ?? 1;
  }
  await finishReports();
  return r.exitCode ?? 1;
}

process.exitCode = await main(process.argv.slice(2));

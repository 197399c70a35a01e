// The nightly job: the full suite against the live endpoint named by its configuration, the
// reports in their own directory (reports/nightly/ by default, so its history holds nightlies
// only), the diff against the previous nightly, and proof that every topic and group the run
// created on the endpoint was deleted.
// Exit codes: 0 no failure, no regression, nothing left behind; 1 otherwise; 2 bad usage or
// an endpoint that is misconfigured or unreachable (found in seconds, before the run).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { diffRuns, loadRun, renderDiff } from '../reporting/diff.js';
import { finishReports } from '../reporting/finish.js';
import { projectRoot } from '../util/paths.js';

const USAGE = `usage: npm run nightly -- [--properties FILE] [--clients a,b] [--reports DIR] [scenario files or folders…]

Runs every scenario (or those of the files given) for every client against the live endpoint of FILE (a Java-style
client.properties; default: KOPC_PROPERTIES; KOPC_BOOTSTRAP_SERVERS etc. apply as for
live-check), writes the reports to DIR (default reports/nightly), compares the run with the
previous nightly in DIR/history (DIR/diff.txt), and deletes every topic and group the run
created (DIR/live-cleanup.json).

Exit codes: 0 clean; 1 a failed cell, a regression against the previous nightly, or something
left on the endpoint; 2 bad usage or an endpoint that fails its pre-flight check.`;

async function main(argv: string[]): Promise<number> {
  let properties = process.env.KOPC_PROPERTIES;
  let reports = join(projectRoot, 'reports', 'nightly');
  let clients = process.env.KOPC_CLIENTS;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (!v) throw new Error(`${a} needs a value`);
      return v;
    };
    try {
      if (a === '--help' || a === '-h') {
        console.log(USAGE);
        return 0;
      } else if (a === '--properties') properties = resolve(value());
      else if (a === '--reports') reports = resolve(value());
      else if (a === '--clients') clients = value();
      else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
      else files.push(a);
    } catch (err) {
      console.error(`nightly: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
  }
  if (!properties && !process.env.KOPC_BOOTSTRAP_SERVERS) {
    console.error('nightly: no live endpoint configured: pass --properties FILE or set KOPC_PROPERTIES (or KOPC_BOOTSTRAP_SERVERS and friends)');
    return 2;
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env, KOPC_TARGETS: 'live', KOPC_REPORTS_DIR: reports,
    ...(properties ? { KOPC_PROPERTIES: properties } : {}), ...(clients ? { KOPC_CLIENTS: clients } : {}),
  };
  // Pre-flight: a wrong host, credentials or CA is one line and exit 2 in seconds, not a run of failures.
  const check = await execa('node_modules/.bin/tsx', ['harness/targets/live/live-cli.ts'], { cwd: projectRoot, env, reject: false, all: true, timeout: 60_000 });
  if (check.exitCode !== 0) {
    console.error(`nightly: ${(check.stderr || check.all || 'live endpoint check failed').trim().split('\n').at(-1)}`);
    return 2;
  }
  console.log(`nightly: ${check.stdout.trim()}`);
  const run = await execa('npx', ['vitest', 'run', '--project', 'conformance', ...files], { cwd: projectRoot, env, stdio: 'inherit', reject: false });

  await finishReports(reports);
  let code = run.exitCode === 0 ? 0 : 1;
  const history = join(reports, 'history');
  const runs = existsSync(history) ? readdirSync(history).filter((f) => f.endsWith('.json')).sort() : [];
  if (runs.length >= 2) {
    const d = diffRuns(loadRun(join(history, runs.at(-2)!)), loadRun(join(history, runs.at(-1)!)));
    console.log(`\nnightly: against the previous nightly (${runs.at(-2)}):\n${renderDiff(d)}`);
    if (d.regressions.length) code = 1;
  } else {
    console.log('\nnightly: first nightly in this reports directory: nothing to compare with yet');
  }
  const cleanupFile = join(reports, 'live-cleanup.json');
  if (existsSync(cleanupFile)) {
    const c = JSON.parse(readFileSync(cleanupFile, 'utf8')) as { topics: number; groups: number; left: string[] };
    console.log(`nightly: cleanup: deleted ${c.topics} topic(s) and ${c.groups} group(s) the run created${c.left.length ? `; LEFT BEHIND: ${c.left.join('; ')}` : '; nothing left behind'}`);
    if (c.left.length) code = 1;
  } else {
    console.error('nightly: no cleanup record: the live target did not start or its teardown did not run');
    code = 1;
  }
  return code;
}

process.exitCode = await main(process.argv.slice(2));

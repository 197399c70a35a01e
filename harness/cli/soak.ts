// Flakiness, measured: runs the same selection N times in a row (each run is `kop-conformance run`
// with the same filters, so selection and its checks are run's own) and writes a summary of every
// cell whose status ever changed, with its status in each run. --stress keeps every core busy
// with stress-ng for the whole soak. Exit code: 0 no unexplained change (a cell whose manifest
// expects it flaky is the endpoint's known intermittent defect, listed apart), 1 an unexplained
// change (or a run produced no results), 2 bad usage.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { expectationFor, type ExpectationEntry } from '../expectations.js';
import type { CellStatus, RunResults } from '../reporting/model.js';
import { projectRoot, reportsDir } from '../util/paths.js';

const USAGE = `usage: kop-conformance soak --runs N [--stress] [run's filters: --targets, --clients, --family, --scenario, vitest args…]

Runs the selection N times in a row, each exactly as \`kop-conformance run\` with the same
filters, every run's reports in <reports>/soak/run-<i>/. Then writes <reports>/soak/summary.json
and <reports>/soak/summary.md: every cell whose status changed between runs, with its status in
each run. That count of changed cells is how flakiness is measured (the goal is 0). A changed
cell whose target manifest expects it flaky (an intermittent endpoint defect, traced to its cause
in the entry's link) is listed with that entry and counted apart from the unexplained ones.

--stress keeps every CPU core busy with stress-ng (\`apt-get install stress-ng\`) for the whole soak,
as a busy machine would.

Exit code: 0 no unexplained change, 1 an unexplained change or a run wrote no results, 2 bad usage.`;

export interface SoakCell {
  /** `target | client | scenario id` */
  cell: string;
  target: string;
  client: string;
  scenarioId: string;
  title: string;
  /** Status per run; `absent` where a run had no such cell. */
  statuses: (CellStatus | 'absent')[];
  /** The messages of its non-passing runs, by run number (1-based). */
  messages: Record<number, string>;
  /** Set when the target's manifest expects this cell flaky: that entry's reason and link. */
  knownIntermittent?: string;
}

export interface SoakSummary {
  runs: number;
  stress: boolean;
  startedAt: string;
  finishedAt: string;
  /** The arguments given to each run. */
  selection: string[];
  /** Exit code of each run. */
  exitCodes: number[];
  cellCount: number;
  changed: SoakCell[];
  /** Changed cells no manifest entry expects flaky. */
  unexplained: number;
  /** Passes with a failed try not counted, the machine having been suspended during it: `cell, run i: message`. */
  notCounted: string[];
}

// By scenario id, not title: the variants of one scenario (sasl_plaintext, sasl_ssl) share a title.
const keyOf = (c: RunResults['cells'][number]) => `${c.target} | ${c.client} | ${c.scenarioId}`;

type FlakyLookup = (target: string, scenarioId: string, client: string) => ExpectationEntry | undefined;

function manifestLookup(target: string, scenarioId: string, client: string): ExpectationEntry | undefined {
  try {
    return expectationFor(target, scenarioId, client);
  } catch {
    return undefined; // a target without a manifest has no known intermittent defects
  }
}

/**
 * Every cell whose status differs between any two runs (a cell missing from a run counts as
 * changed). A changed cell whose manifest entry expects it flaky carries that entry.
 */
export function changedCells(runs: RunResults[], lookup: FlakyLookup = manifestLookup): { cellCount: number; changed: SoakCell[]; unexplained: number; notCounted: string[] } {
  const all = new Map<string, SoakCell>();
  const notCounted: string[] = [];
  runs.forEach((run, i) => {
    for (const c of run.cells) {
      // A pass whose failed tries ran while the machine was suspended (harness/util/suspension.ts)
      // is unchanged, and listed.
      if (c.status === 'pass' && c.retries?.some((r) => / not counted \(/.test(r))) notCounted.push(`${keyOf(c)}, run ${i + 1}: ${c.message ?? ''}`);
      const k = keyOf(c);
      let s = all.get(k);
      if (!s) all.set(k, (s = { cell: k, target: c.target, client: c.client, scenarioId: c.scenarioId, title: c.title, statuses: runs.map(() => 'absent'), messages: {} }));
      s.statuses[i] = c.status;
      if (c.status !== 'pass' && c.message) s.messages[i + 1] = c.message;
    }
  });
  const changed = [...all.values()].filter((s) => new Set(s.statuses).size > 1).sort((a, b) => a.cell.localeCompare(b.cell));
  for (const c of changed) {
    const e = lookup(c.target, c.scenarioId, c.client);
    if (e?.expect === 'flaky') c.knownIntermittent = `${e.reason}${e.link ? ` (${e.link})` : ''}`;
  }
  return { cellCount: all.size, changed, unexplained: changed.filter((c) => !c.knownIntermittent).length, notCounted };
}

export function renderSoakMarkdown(s: SoakSummary): string {
  const head = `# Soak: ${s.runs} run(s)${s.stress ? ' under stress (stress-ng on every core)' : ''}\n\n` +
    `${s.startedAt} → ${s.finishedAt}; selection: \`${s.selection.join(' ') || '(everything)'}\`; run exit codes: ${s.exitCodes.join(', ')}\n\n` +
    `**${s.changed.length} of ${s.cellCount} cell(s) changed status: ${s.unexplained} unexplained, ` +
    `${s.changed.length - s.unexplained} the endpoint's known intermittent defect(s) (manifest: expect flaky).**\n`;
  const suspended = s.notCounted.length
    ? `\n## Tries not counted: the machine was suspended during them\n\n${s.notCounted.map((n) => `- ${n.replace(/\n/g, ' ').slice(0, 400)}`).join('\n')}\n`
    : '';
  if (!s.changed.length) return head + suspended;
  const runCols = Array.from({ length: s.runs }, (_, i) => `run ${i + 1}`);
  const esc = (t: string) => t.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const rows = s.changed.map((c) => `| ${esc(c.target)} | ${esc(c.client)} | ${esc(c.title)} | ${c.statuses.join(' | ')} | ${c.knownIntermittent ? 'known intermittent' : '**unexplained**'} |`);
  const why = s.changed.flatMap((c) => Object.entries(c.messages).map(([run, m]) => `- ${esc(c.cell)}, run ${run}: ${esc(m.slice(0, 300))}`));
  const known = s.changed.filter((c) => c.knownIntermittent).map((c) => `- ${esc(c.cell)}: ${esc(c.knownIntermittent!.slice(0, 600))}`);
  return `${head}\n| target | client | scenario | ${runCols.join(' | ')} | |\n| --- | --- | --- | ${runCols.map(() => '---').join(' | ')} | --- |\n${rows.join('\n')}\n\n## Messages\n\n${why.join('\n')}\n` +
    (known.length ? `\n## Known intermittent endpoint defects (their manifest entries)\n\n${known.join('\n')}\n` : '') + suspended;
}

function hasStressNg(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v stress-ng'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function main(argv: string[]): Promise<number> {
  let runs: number | undefined;
  let stress = false;
  const selection: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      console.log(USAGE);
      return 0;
    }
    if (a === '--runs') {
      const v = argv[++i] ?? '';
      if (!/^[1-9]\d*$/.test(v)) {
        console.error(`--runs needs a whole number ≥ 1 (got "${v}")`);
        return 2;
      }
      runs = Number(v);
    } else if (a === '--stress') stress = true;
    else if (a === '--shard') {
      console.error('--shard: a soak runs the whole selection each time; shard the selection with --family or --scenario instead');
      return 2;
    } else selection.push(a);
  }
  if (!runs) {
    console.error(`--runs N is required\n\n${USAGE}`);
    return 2;
  }
  if (stress && !hasStressNg()) {
    console.error('--stress needs stress-ng, which is not installed (Debian: apt-get install -y stress-ng)');
    return 2;
  }
  const soakDir = join(reportsDir, 'soak');
  const startedAt = new Date().toISOString();
  let stressor: ResultPromise | undefined;
  if (stress) {
    const cpus = availableParallelism();
    console.log(`soak: stress-ng --cpu ${cpus} for the whole soak`);
    stressor = execa('stress-ng', ['--cpu', String(cpus), '--quiet'], { reject: false, stdio: 'ignore' });
  }
  // tsx's loader, not its command line, which SIGKILLs a run that is slow to acknowledge a Ctrl-C (bin/kop-conformance.mjs).
  const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const results: RunResults[] = [];
  const exitCodes: number[] = [];
  try {
    for (let i = 1; i <= runs; i++) {
      const runDir = join(soakDir, `run-${i}`);
      console.log(`\nsoak: run ${i} of ${runs} → ${runDir}`);
      const r = await execa(process.execPath, ['--import', tsxLoader, join(projectRoot, 'harness/cli/conformance.ts'), ...selection], {
        cwd: projectRoot, env: { ...process.env, KOPC_REPORTS_DIR: runDir }, stdio: 'inherit', reject: false,
      });
      exitCodes.push(r.exitCode ?? 1);
      // A bad selection is refused by run itself before anything starts: no point repeating it.
      if (r.exitCode === 2 && !existsSync(join(runDir, 'results-model.json'))) return 2;
      const model = join(runDir, 'results-model.json');
      if (!existsSync(model)) {
        console.error(`soak: run ${i} wrote no ${model}`);
        results.push({ startedAt: '', finishedAt: '', targets: [], cells: [] });
        continue;
      }
      results.push(JSON.parse(readFileSync(model, 'utf8')) as RunResults);
    }
  } finally {
    if (stressor) {
      stressor.kill('SIGTERM');
      await stressor;
    }
  }
  const summary: SoakSummary = { runs, stress, startedAt, finishedAt: new Date().toISOString(), selection, exitCodes, ...changedCells(results) };
  const { unexplained } = summary;
  mkdirSync(soakDir, { recursive: true });
  writeFileSync(join(soakDir, 'summary.json'), JSON.stringify(summary, null, 2));
  const md = renderSoakMarkdown(summary);
  writeFileSync(join(soakDir, 'summary.md'), md);
  console.log(`\n${md}\nsoak: ${join(soakDir, 'summary.json')}, ${join(soakDir, 'summary.md')}`);
  const empty = results.some((r) => !r.cells.length);
  return unexplained || empty ? 1 : 0;
}

if (process.argv[1] && /soak\.ts$/.test(process.argv[1])) process.exitCode = await main(process.argv.slice(2));

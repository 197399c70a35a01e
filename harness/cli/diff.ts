// Compares a run with the one before it (reports/history/, or two files given) and exits 1 when
// a cell regressed (a new failure or unexpected pass), 2 on bad usage, 0 otherwise.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { diffRuns, loadRun, renderDiff } from '../reporting/diff.js';
import { reportsDir } from '../util/paths.js';

const USAGE = `usage: kop-conformance diff [--previous FILE --current FILE]

Without files: the two newest runs in ${join(reportsDir, 'history')}. Lists regressions (new failures,
unexpected passes), fixes and flaky cells. Exit 1 when there is a regression.`;

function main(argv: string[]): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const opt = (n: string) => { const i = argv.indexOf(n); return i >= 0 ? argv[i + 1] : undefined; };
  let previous = opt('--previous');
  let current = opt('--current');
  if (!previous || !current) {
    const dir = join(reportsDir, 'history');
    let runs: string[] = [];
    try { runs = readdirSync(dir).filter((f) => f.endsWith('.json')).sort(); } catch { /* no history yet */ }
    if (runs.length < 2) {
      console.error(`kop-conformance diff: need two runs in ${dir} (found ${runs.length}); run the suite twice or pass --previous/--current`);
      return 2;
    }
    previous = join(dir, runs.at(-2)!);
    current = join(dir, runs.at(-1)!);
  }
  const d = diffRuns(loadRun(previous), loadRun(current));
  console.log(`${previous} → ${current}\n${renderDiff(d)}`);
  return d.regressions.length ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));

// A vitest reporter that turns every conformance test into a CellResult and writes the
// run's results model (reports/results-model.json) plus its HTML matrix (reports/index.html).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { Reporter, TestCase, TestModule } from 'vitest/node';
import { redact } from '../security/redact.js';
import { projectRoot, reportsDir } from '../util/paths.js';
import { renderHtml } from './html.js';
import { archiveRun, diffRuns, loadRun, renderDiff } from './diff.js';
import { renderMarkdown } from './markdown.js';
import type { CellResult, CellStatus, RunResults } from './model.js';

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The global setup records the run's targets here (descriptions, not-run reasons). */
export const TARGETS_FILE = 'targets.json';

function readTargets(outDir: string): RunResults['targets'] {
  const p = join(outDir, TARGETS_FILE);
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as RunResults['targets']) : [];
}

export default class ResultsReporter implements Reporter {
  private cells: CellResult[] = [];
  private startedAt = new Date().toISOString();
  constructor(private opts: { outDir?: string } = {}) {}

  onTestRunStart(): void {
    this.startedAt = new Date().toISOString();
    this.cells = [];
  }

  onTestCaseResult(testCase: TestCase): void {
    if (testCase.project.name !== 'conformance') return;
    const meta = testCase.meta();
    const kopc = meta.kopc;
    if (!kopc) return;
    const result = testCase.result();
    // Not selected (a -t or --scenario filter): not a cell of this run. A test that ran and
    // skipped itself carries its reason as the note and stays.
    if (result.state === 'skipped' && !result.note && testCase.options.mode === 'skip') return;
    const diag = testCase.diagnostic();
    const colon = testCase.name.indexOf(':');
    const scenarioId = colon > 0 ? testCase.name.slice(0, colon) : testCase.name;
    let status: CellStatus;
    let message: string | undefined;
    let canonicalError: string | undefined;
    if (kopc.expected === 'fail' && result.state === 'passed') {
      // vitest's `fails`: the test failed, as the manifest says it does.
      status = 'known-failure';
      message = `known failure: ${kopc.expectedReason}`;
    } else if (kopc.expected === 'fail' && result.state === 'failed') {
      status = 'unexpected-pass';
      message = `passed although the manifest expects a failure (${kopc.expectedReason}): update suites/expectations/${kopc.target}.json`;
    } else if (result.state === 'passed') status = (diag?.retryCount ?? 0) > 0 ? 'flaky' : 'pass';
    else if (result.state === 'failed') {
      status = 'fail';
      const err = result.errors?.[0];
      message = err ? `${err.name ?? 'Error'}: ${err.message}` : 'failed';
      canonicalError = /^([A-Z][A-Z_]+) \(/.exec(err?.message ?? '')?.[1] ?? kopc.canonicalError;
    } else {
      const note = result.state === 'skipped' ? result.note : undefined;
      message = note;
      status = note?.startsWith('not run') ? 'not-run' : note?.startsWith('not applicable') ? 'not-applicable' : note?.startsWith('known skip') ? 'known-failure' : 'skipped';
    }
    const file = relative(projectRoot, testCase.module.moduleId);
    this.cells.push({
      scenarioId,
      title: colon > 0 ? testCase.name.slice(colon + 1).trim() : testCase.name,
      family: kopc.family,
      target: kopc.target,
      client: kopc.client,
      clientVersion: kopc.clientVersion,
      status,
      durationMs: Math.round(diag?.duration ?? 0),
      canonicalError,
      message: message ? redact(message) : undefined,
      file,
      rerun: `KOPC_TARGETS=${kopc.target} KOPC_CLIENTS=${kopc.client} npx vitest run --project conformance ${file} -t ${shellQuote(escapeRegex(testCase.name))}`,
    });
  }

  onTestRunEnd(_modules: ReadonlyArray<TestModule>): void {
    if (!this.cells.length) return;
    const outDir = this.opts.outDir ?? reportsDir;
    // A merge of shards (`kop-conformance merge`) passes the shards' own time window.
    const window = process.env.KOPC_RUN_WINDOW ? (JSON.parse(process.env.KOPC_RUN_WINDOW) as { startedAt: string; finishedAt: string }) : undefined;
    const run: RunResults = {
      startedAt: window?.startedAt ?? this.startedAt,
      finishedAt: window?.finishedAt ?? new Date().toISOString(),
      targets: readTargets(outDir),
      cells: this.cells,
    };
    mkdirSync(dirname(join(outDir, 'x')), { recursive: true });
    writeFileSync(join(outDir, 'results-model.json'), JSON.stringify(run, null, 2));
    writeFileSync(join(outDir, 'index.html'), renderHtml(run));
    writeFileSync(join(outDir, 'summary.md'), renderMarkdown(run));
    // History for run-to-run diffs: this run is kept, and compared with the one before it.
    const model = join(outDir, 'results-model.json');
    const previous = archiveRun(outDir, model, run.startedAt);
    if (previous) writeFileSync(join(outDir, 'diff.txt'), `${previous} → this run\n${renderDiff(diffRuns(loadRun(previous), run))}\n`);
  }
}

declare module 'vitest' {
  interface TaskMeta {
    kopc?: {
      family: string;
      target: string;
      client: string;
      clientVersion?: string;
      canonicalError?: string;
      /** The target manifest's expectation for this cell, and why. */
      expected?: 'fail' | 'skip' | 'flaky';
      expectedReason?: string;
    };
  }
}

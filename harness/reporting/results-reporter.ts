// A vitest reporter that turns every conformance test into a CellResult and writes the
// run's results model (reports/results-model.json) plus its HTML matrix (reports/index.html).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { Reporter, TestCase, TestModule, TestSpecification } from 'vitest/node';
import { redact } from '../security/redact.js';
import { projectRoot, reportsDir } from '../util/paths.js';
import { renderHtml } from './html.js';
import { archiveRun, diffRuns, loadRun, renderDiff } from './diff.js';
import { renderMarkdown } from './markdown.js';
import type { CellResult, CellStatus, RunResults } from './model.js';
import type { ApiRange } from '../protocol/api-versions.js';
import { buildBreakdown, readTimings } from './timings.js';
import { RunProgress } from './progress-lines.js';
import { emitProgressEvent, progressEventsWanted } from './progress-events.js';
import { describeSuspension, settleRetriedPass, type SuspendedTry } from '../util/suspension.js';

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The global setup records the run's targets here (descriptions, not-run reasons). */
export const TARGETS_FILE = 'targets.json';

function readTargets(outDir: string): RunResults['targets'] {
  const p = join(outDir, TARGETS_FILE);
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as RunResults['targets']) : [];
}

/** `Name: message` of a test error, as a cell's message shows it. */
const errorLine = (e: { name?: string; message: string }) => `${e.name ?? 'Error'}: ${e.message}`;

/** What a flaky or failed cell's message adds about tries that ran while the machine was suspended. */
const suspensionNote = (s: readonly SuspendedTry[]) => (s.length ? ` (note: ${s.map(describeSuspension).join('; ')})` : '');

/** The canonical code a ClientError's message starts with (`TIMEOUT (kafkajs): …`). */
const canonicalOf = (message: string | undefined) => /^([A-Z][A-Z_]+) \(/.exec(message ?? '')?.[1];

export default class ResultsReporter implements Reporter {
  private cells: CellResult[] = [];
  private startedAt = new Date().toISOString();
  private progress?: RunProgress;
  private ticker?: ReturnType<typeof setInterval>;
  constructor(private opts: { outDir?: string } = {}) {}

  onTestRunStart(specifications?: ReadonlyArray<TestSpecification>): void {
    this.startedAt = new Date().toISOString();
    this.cells = [];
    // Progress on stderr (not for a merge of shards, which replays finished results).
    const files = (specifications ?? []).filter((s) => s.project.name === 'conformance').length;
    if (files && !process.env.KOPC_RUN_WINDOW && process.env.KOP_CONFORMANCE_QUIET !== '1') {
      const interval = Number(process.env.KOPC_PROGRESS_INTERVAL_MS) || 15_000;
      // A parent drawing bars (a terminal) gets events; the plain lines are for everyone else.
      const drawn = progressEventsWanted();
      this.progress = new RunProgress({ intervalMs: interval, ...(drawn ? { write: () => undefined } : {}) });
      emitProgressEvent({ t: 'files', pending: files });
      this.progress.pendingFiles = files;
      this.ticker = setInterval(() => this.progress?.tick(), Math.min(interval, 5_000));
      this.ticker.unref();
    }
  }

  onTestModuleCollected(module: TestModule): void {
    if (!this.progress || module.project.name !== 'conformance') return;
    this.progress.pendingFiles = Math.max(0, this.progress.pendingFiles - 1);
    const planned = new Map<string, number>();
    for (const t of module.children.allTests()) {
      const target = t.meta().kopc?.target;
      if (target && t.options.mode !== 'skip') {
        this.progress.plan(target);
        planned.set(target, (planned.get(target) ?? 0) + 1);
      }
    }
    for (const [target, n] of planned) emitProgressEvent({ t: 'plan', target, n });
    emitProgressEvent({ t: 'files', pending: this.progress.pendingFiles });
  }

  onTestCaseResult(testCase: TestCase): void {
    if (testCase.project.name !== 'conformance') return;
    const meta = testCase.meta();
    const kopc = meta.kopc;
    if (!kopc) return;
    if (this.progress && testCase.options.mode !== 'skip') {
      this.progress.finish(kopc.target);
      this.progress.tick();
      emitProgressEvent({ t: 'finish', target: kopc.target });
    }
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
    if (kopc.knownIntermittent) {
      // A flaky entry's defect on every try (fixtures/conformance.ts, settleKnownIntermittent).
      status = 'known-failure';
      message = `known failure, intermittent: failed all ${kopc.knownIntermittent.tries} tries with the known defect's error (last: ${kopc.knownIntermittent.error}): ${kopc.expectedReason}`;
      canonicalError = canonicalOf(kopc.knownIntermittent.error.replace(/^\w+: /, ''));
    } else if (kopc.expected === 'fail' && result.state === 'passed') {
      // vitest's `fails`: the test failed, as the manifest says it does.
      status = 'known-failure';
      message = `known failure: ${kopc.expectedReason}`;
    } else if (kopc.expected === 'fail' && result.state === 'failed') {
      status = 'unexpected-pass';
      message = `passed although the manifest expects a failure (${kopc.expectedReason}): update suites/expectations/${kopc.target}.json`;
    } else if (result.state === 'passed' && (diag?.retryCount ?? 0) > 0) {
      const tries = (diag?.retryCount ?? 0) + 1;
      const first = result.errors?.[0];
      const settled = settleRetriedPass(tries - 1, kopc.suspendedTries ?? []);
      if (settled.voided) {
        // Every failed try ran while the machine was suspended: no failure is evidence, and the
        // tries not counted stay on the cell (its retries, its message).
        status = 'pass';
        const why = settled.suspended.map(describeSuspension);
        message = `passed on try ${tries}; the failed ${tries > 2 ? 'tries were' : 'try was'} not counted: ${why.join('; ')}. First error: ${first ? errorLine(first) : 'an error'}`;
        kopc.retries = [...(kopc.retries ?? []), ...settled.suspended.map((s) => `try ${s.try} not counted (${describeSuspension(s)})`)];
      } else {
        // Passed on a retry: the first try's error stays on the cell.
        status = 'flaky';
        message = `passed on try ${tries}; failed before with ${first ? errorLine(first) : 'an error'}${suspensionNote(settled.suspended)}`;
        canonicalError = canonicalOf(first?.message);
      }
    } else if (result.state === 'passed') status = 'pass';
    else if (result.state === 'failed') {
      status = 'fail';
      const err = result.errors?.[0];
      message = err ? `${errorLine(err)}${suspensionNote(kopc.suspendedTries ?? [])}` : 'failed';
      canonicalError = canonicalOf(err?.message) ?? kopc.canonicalError;
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
      ...(kopc.retries?.length ? { retries: kopc.retries.map(redact) } : {}),
      ...(kopc.duplicates?.length ? { duplicates: kopc.duplicates.map(redact) } : {}),
      ...(kopc.apiVersions ? { apiVersions: kopc.apiVersions } : {}),
      ...(kopc.waits?.length ? { waits: kopc.waits } : {}),
      ...(kopc.measurements?.length ? { measurements: kopc.measurements.map(redact) } : {}),
      ...(diag?.startTime ? { startTime: Math.round(diag.startTime) } : {}),
      file,
      rerun: `KOPC_TARGETS=${kopc.target} KOPC_CLIENTS=${kopc.client} npx vitest run --project conformance ${file} -t ${shellQuote(escapeRegex(testCase.name))}`,
    });
  }

  onTestRunEnd(_modules: ReadonlyArray<TestModule>): void {
    if (this.ticker) clearInterval(this.ticker);
    if (this.progress && !progressEventsWanted()) process.stderr.write(`${this.progress.line('run finished')}\n`);
    if (this.progress) emitProgressEvent({ t: 'end' });
    this.progress = undefined;
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
    run.timings = buildBreakdown(run.cells, readTimings(outDir), run.startedAt, run.finishedAt);
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
      /** A flaky entry's signature (a regular expression) and the cell's number of tries. */
      signature?: string;
      tries?: number;
      /** Set when every try failed with an error the signature matches: a known failure. */
      knownIntermittent?: { tries: number; error: string };
      /** Bounded retries the drivers made of retriable errors during the cell. */
      retries?: string[];
      /** Failed tries during which the machine was suspended (harness/util/suspension.ts). */
      suspendedTries?: SuspendedTry[];
      /** Duplicates the delivery checker allowed during the cell (no idempotence). */
      duplicates?: string[];
      /** The target's ApiVersions answer, where the cell asked for it (api-versions family). */
      apiVersions?: ApiRange[];
      /** What the cell waited for before its own work (driver start, login gate, target lock), with how long. */
      waits?: string[];
      /** Figures the scenario measured, e.g. the regions family's replication delay. */
      measurements?: string[];
    };
  }
}

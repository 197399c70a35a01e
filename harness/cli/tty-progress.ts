// Progress bars for a run on a terminal: one bar per target (cells done of the cells known, time
// elapsed, an estimate) and a row naming the slow steps under way (builds, broker starts), drawn
// with cli-progress at the bottom of the terminal while the run's own output scrolls above.
// Only on a TTY, never under CI or with KOPC_PROGRESS=lines: there the plain timestamped lines
// are the progress. The bars are fed by structured events (progress-events.ts), not by reading
// vitest's output.
import cliProgress from 'cli-progress';
import { fmtMs } from '../reporting/timings.js';
import type { ProgressEvent } from '../reporting/progress-events.js';

type TtyStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

/** Bars only on a terminal, and never in CI or when asked for plain lines. */
export function ttyProgressWanted(stream: TtyStream = process.stderr, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !env.CI && env.KOPC_PROGRESS !== 'lines' && env.KOP_CONFORMANCE_QUIET !== '1';
}

interface TargetRow { bar: cliProgress.SingleBar; planned: number; done: number }

export class TtyProgress {
  private readonly multi: cliProgress.MultiBar;
  private readonly rows = new Map<string, TargetRow>();
  private readonly steps = new Map<string, number>();
  private stepsRow?: cliProgress.SingleBar;
  private pendingFiles = 0;
  private readonly t0: number;
  private readonly now: () => number;
  private stopped = false;
  private readonly stream: TtyStream;

  constructor(opts: { stream?: TtyStream; now?: () => number; fps?: number } = {}) {
    this.now = opts.now ?? Date.now;
    this.stream = opts.stream ?? process.stderr;
    this.t0 = this.now();
    this.multi = new cliProgress.MultiBar({
      stream: this.stream,
      fps: opts.fps ?? 5,
      hideCursor: true,
      clearOnComplete: false,
      // The run's own SIGINT handling stops the bars (the cursor is shown again either way).
      gracefulExit: false,
      barsize: 24,
      format: (options, params, payload: { kind: 'target' | 'steps'; text: string }) => {
        if (payload.kind === 'steps') return this.stepsText();
        const bar = cliProgress.Format.BarFormat(params.progress, options);
        return `${payload.text} ${bar} ${params.value}/${params.total}${this.pendingFiles ? '+' : ''} cells · ${this.elapsed()}${this.eta(params.value, params.total)}`;
      },
    });
  }

  private elapsed(): string {
    return `${fmtMs(this.now() - this.t0)} elapsed`;
  }

  private eta(done: number, total: number): string {
    const all = [...this.rows.values()];
    const doneAll = all.reduce((a, r) => a + r.done, 0);
    if (!done || total <= done || !doneAll) return '';
    // The run's own average pace per cell so far, over every target.
    const perCell = (this.now() - this.t0) / doneAll;
    return `, about ${fmtMs(Math.round(perCell * (total - done)))} left`;
  }

  private row(target: string): TargetRow {
    let r = this.rows.get(target);
    if (!r) {
      const label = target.padEnd(Math.max(9, target.length));
      r = { bar: this.multi.create(0, 0, { kind: 'target', text: label }), planned: 0, done: 0 };
      this.rows.set(target, r);
    }
    return r;
  }

  /** The steps under way, with how long each has run so far (drawn at every redraw). */
  private stepsText(): string {
    const running = [...this.steps.entries()].map(([label, since]) => `${label} (${fmtMs(this.now() - since)})`);
    return running.length ? `… ${running.join(' · ')}` : '';
  }

  private drawSteps(): void {
    if (!this.stepsRow) this.stepsRow = this.multi.create(1, 0, { kind: 'steps', text: '' });
  }

  handle(ev: ProgressEvent): void {
    if (this.stopped) return;
    switch (ev.t) {
      case 'plan': {
        const r = this.row(ev.target);
        r.planned += ev.n;
        r.bar.setTotal(r.planned);
        break;
      }
      case 'finish': {
        const r = this.row(ev.target);
        r.done++;
        r.bar.update(r.done);
        break;
      }
      case 'files':
        this.pendingFiles = ev.pending;
        break;
      case 'step':
        if (ev.state === 'started') this.steps.set(ev.label, this.now());
        else this.steps.delete(ev.label);
        this.drawSteps();
        break;
      case 'end':
        this.steps.clear();
        this.drawSteps();
        break;
    }
  }

  /** A line of the run's own output, printed above the bars. */
  log(line: string): void {
    if (this.stopped) this.stream.write(`${line}\n`);
    else this.multi.log(`${line}\n`);
  }

  /** Draws the final state once (with any lines still buffered) and gives the terminal back. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.steps.clear();
    if (this.stepsRow) this.multi.remove(this.stepsRow);
    this.multi.update();
    this.multi.stop();
  }
}

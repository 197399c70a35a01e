// Progress while a run goes on, from the results reporter's own hooks (never scraped from
// vitest's output): cells done / known per target, elapsed time and an estimate of what is
// left, on stderr. Throttled so that CI logs stay readable: at most one line per interval,
// plus one line when a target's last known cell finishes.
import { fmtMs } from './timings.js';

export interface ProgressOptions {
  /** Minimum time between two periodic lines (default 15 s; KOPC_PROGRESS_INTERVAL_MS). */
  intervalMs?: number;
  now?: () => number;
  write?: (line: string) => void;
}

export class RunProgress {
  private readonly t0: number;
  private last = 0;
  private readonly planned = new Map<string, number>();
  private readonly done = new Map<string, number>();
  private readonly announced = new Set<string>();
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly write: (line: string) => void;
  /** Files whose tests are not yet collected: while any are, a target's total may still grow. */
  pendingFiles = 0;

  constructor(opts: ProgressOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.intervalMs = opts.intervalMs ?? 15_000;
    this.write = opts.write ?? ((l) => process.stderr.write(`${l}\n`));
    this.t0 = this.now();
    this.last = this.t0;
  }

  plan(target: string, n = 1): void {
    this.planned.set(target, (this.planned.get(target) ?? 0) + n);
  }

  finish(target: string): void {
    this.done.set(target, (this.done.get(target) ?? 0) + 1);
    const total = this.planned.get(target) ?? 0;
    if (!this.pendingFiles && !this.announced.has(target) && (this.done.get(target) ?? 0) >= total) {
      this.announced.add(target);
      this.emit(`target ${target} finished: ${this.done.get(target)}/${total} cells`);
    }
  }

  /** Called often (every result and a timer): prints only when the interval has passed. */
  tick(): void {
    if (this.now() - this.last < this.intervalMs) return;
    this.emit();
  }

  line(prefix?: string): string {
    const elapsed = this.now() - this.t0;
    const total = [...this.planned.values()].reduce((a, b) => a + b, 0);
    const done = [...this.done.values()].reduce((a, b) => a + b, 0);
    // Estimate: the remaining cells at this run's own average pace so far.
    const left = done && total > done ? Math.round((elapsed / done) * (total - done)) : undefined;
    const perTarget = [...this.planned.keys()].map((t) => `${t} ${this.done.get(t) ?? 0}/${this.planned.get(t)}`).join(', ');
    return `[kop-conformance progress] ${prefix ? `${prefix}; ` : ''}${done}/${total}${this.pendingFiles ? '+' : ''} cells, ${fmtMs(elapsed)} elapsed` +
      `${left !== undefined ? `, about ${fmtMs(left)} left` : ''}${this.pendingFiles ? ` (${this.pendingFiles} file(s) not collected yet)` : ''}${perTarget ? ` — ${perTarget}` : ''}`;
  }

  private emit(prefix?: string): void {
    this.last = this.now();
    this.write(this.line(prefix));
  }
}

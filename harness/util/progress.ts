import { emitProgressEvent } from '../reporting/progress-events.js';
import { recordTiming } from '../reporting/timings.js';
// Progress lines for slow steps (downloads, builds, broker starts). They go to stderr
// so that machine-readable stdout stays clean, and never carry secrets.

/** A duration for people: `12.3 s`. */
export const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

export function progress(step: string, detail = ''): void {
  if (process.env.KOP_CONFORMANCE_QUIET === '1') return;
  const t = new Date().toISOString().slice(11, 19);
  process.stderr.write(`[kop-conformance ${t}] ${step}${detail ? `: ${detail}` : ''}\n`);
}

/** Runs `fn`, printing when it starts and how long it took. */
export async function step<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  progress(label, 'started');
  emitProgressEvent({ t: 'step', label, state: 'started' });
  try {
    const r = await fn();
    recordTiming(label, Date.now() - t0);
    emitProgressEvent({ t: 'step', label, state: 'done', ms: Date.now() - t0 });
    progress(label, `done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return r;
  } catch (err) {
    emitProgressEvent({ t: 'step', label, state: 'failed', ms: Date.now() - t0 });
    progress(label, `failed after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    throw err;
  }
}

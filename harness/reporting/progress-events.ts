// Progress as structured events, for a parent process that draws it (the CLI's progress bars on
// a terminal). When KOPC_PROGRESS_EVENTS names a file, the results reporter and the step
// helpers append one JSON object per line to it; the parent follows the file. Without the
// variable nothing is written and the plain stderr lines are the only progress (CI, pipes).
import { appendFileSync, closeSync, openSync, readSync, statSync } from 'node:fs';

export type ProgressEvent =
  /** n more cells of a target are known (collected). */
  | { t: 'plan'; target: string; n: number }
  /** One cell of a target finished. */
  | { t: 'finish'; target: string }
  /** How many scenario files are not yet collected (totals may still grow while any are). */
  | { t: 'files'; pending: number }
  /** A slow step (download, build, broker start) started, finished or failed. */
  | { t: 'step'; label: string; state: 'started' | 'done' | 'failed'; ms?: number }
  /** The run's tests are over. */
  | { t: 'end' };

export const PROGRESS_EVENTS_ENV = 'KOPC_PROGRESS_EVENTS';

/** Whether a parent is drawing the progress (then the periodic plain lines are left out). */
export function progressEventsWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env[PROGRESS_EVENTS_ENV]);
}

/** Appends one event when a parent asked for them; never throws (progress must not fail a run). */
export function emitProgressEvent(ev: ProgressEvent, env: NodeJS.ProcessEnv = process.env): void {
  const file = env[PROGRESS_EVENTS_ENV];
  if (!file) return;
  try {
    appendFileSync(file, `${JSON.stringify(ev)}\n`);
  } catch {
    // The parent went away or the file was removed: the run goes on without it.
  }
}

/**
 * Reads the events appended since the last call (complete lines only). Workers append whole
 * lines with one write each, so a line is never interleaved with another.
 */
export class ProgressEventReader {
  private offset = 0;
  private partial = '';
  constructor(private readonly file: string) {}

  read(): ProgressEvent[] {
    let size: number;
    try {
      size = statSync(this.file).size;
    } catch {
      return [];
    }
    if (size <= this.offset) return [];
    const buf = Buffer.alloc(size - this.offset);
    const fd = openSync(this.file, 'r');
    try {
      readSync(fd, buf, 0, buf.length, this.offset);
    } finally {
      closeSync(fd);
    }
    this.offset = size;
    const text = this.partial + buf.toString('utf8');
    const cut = text.lastIndexOf('\n');
    this.partial = text.slice(cut + 1);
    return text.slice(0, cut + 1).split('\n').filter(Boolean).flatMap((line) => {
      try {
        return [JSON.parse(line) as ProgressEvent];
      } catch {
        return [];
      }
    });
  }
}

// Duplicates the delivery checker allowed (at-least-once without idempotence) are recorded, like
// driver retries (retry-log.ts): the test fixture moves them onto the cell, so the report shows
// "passed, 3 duplicates" instead of hiding them. One log per process: a worker runs one test at a time.

const log: string[] = [];

/** Notes the allowed duplicates of one partition, e.g. `topic/2: 0:alpha="alpha-0" ×2`. */
export function recordDuplicates(what: string): void {
  log.push(what);
}

/** The duplicates recorded since the last call, and clears them. */
export function takeDuplicates(): string[] {
  return log.splice(0, log.length);
}

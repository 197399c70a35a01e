// Retries a driver makes of errors its client's own documentation calls retriable (coordinator
// loading, not coordinator, leader not available) are bounded and recorded: drivers note each one
// here, and the test fixture moves them onto the cell, so the report reads "passed after 1
// retry of GROUP_LOAD_IN_PROGRESS" and an endpoint that keeps answering it still fails.
// One log per process: the tests of a worker run one at a time.

const log: string[] = [];

/** Notes one retry: what was retried and why (a canonical code first, then detail). */
export function recordRetry(what: string): void {
  log.push(what);
}

/** The retries recorded since the last call, and clears them. */
export function takeRetries(): string[] {
  return log.splice(0, log.length);
}

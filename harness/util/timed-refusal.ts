// Times an attempt that must be refused (a login with bad credentials), for scenarios that assert
// the refusal came from the endpoint at once and not from a client timeout.
//
// A refusal that came as expected but over the bound (under RETIME_BELOW × the bound) is timed once
// more, and the first time is recorded on the cell as a retry. Why: on a busy machine the client's
// own work around the refusal (a JVM creating an Admin client, a TLS handshake) can stall once. The
// stress-ng CI runs timed Java refusals by the reference Kafka over SASL_SSL at 4 290 ms
// (2026-12-04, load 8.4 on 2 cores) and 6 744 ms (2026-12-05, load 23-25), and the same refusals
// on the cells' next tries took about 1 s. An endpoint that holds refusals back is slow both times
// and still fails, and the slow first time stays visible in the report. Refusals the caller's
// `expected` rejects (another error, or one where the client says it waited out its own timeout)
// are not timed again: that would only make a known failure slower.
import { recordRetry } from './retry-log.js';

export interface TimedRefusal {
  /** What the attempt rejected with, or undefined when it did not reject. */
  err: unknown;
  /** How long the judged attempt took (the second one when the first was timed again). */
  ms: number;
}

async function timeOnce(attempt: () => Promise<unknown>): Promise<TimedRefusal> {
  const t0 = Date.now();
  const err = await attempt().then(() => undefined, (e: unknown) => e);
  return { err, ms: Date.now() - t0 };
}

/** Refusals slower than this many bounds are not timed again: past any runtime stall seen. */
export const RETIME_BELOW = 2.5;

/**
 * Times `attempt`. When it was refused as `expected` says but took between `quickMs` and
 * RETIME_BELOW × `quickMs`, records that on the cell and times it once more.
 */
export async function timeRefusal(
  what: string, quickMs: number, attempt: () => Promise<unknown>, expected: (err: unknown) => boolean,
): Promise<TimedRefusal> {
  const first = await timeOnce(attempt);
  if (first.ms < quickMs || first.ms >= quickMs * RETIME_BELOW || !expected(first.err)) return first;
  const second = await timeOnce(attempt);
  recordRetry(`SLOW_REFUSAL: ${what} took ${first.ms} ms (bound ${quickMs} ms); timed again: ${second.ms} ms`);
  return second;
}

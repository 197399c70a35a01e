// Every wait is bounded and labelled: a timeout names what it waited for.

export class WaitTimeoutError extends Error {
  constructor(readonly what: string, readonly ms: number, readonly lastError?: unknown) {
    const last = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
    super(`timed out after ${ms} ms waiting for ${what}${last}`);
    this.name = 'WaitTimeoutError';
  }
}

/** Rejects with a WaitTimeoutError naming `what` if `p` does not settle within `ms`. */
export async function withTimeout<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new WaitTimeoutError(what, ms)), ms);
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

export interface PollOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Stop early with this error (e.g. the broker process died). */
  abort?: () => Error | undefined;
}

/** Retries `attempt` until it resolves, `abort` reports a failure, or the deadline passes. */
export async function pollUntil<T>(what: string, attempt: () => Promise<T>, opts: PollOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    const aborted = opts.abort?.();
    if (aborted) throw aborted;
    const left = deadline - Date.now();
    if (left <= 0) throw new WaitTimeoutError(what, opts.timeoutMs, lastError);
    try {
      return await withTimeout(what, left, attempt());
    } catch (err) {
      if (err instanceof WaitTimeoutError) throw new WaitTimeoutError(what, opts.timeoutMs, lastError);
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, Math.min(opts.intervalMs ?? 500, Math.max(0, deadline - Date.now()))));
  }
}

// The machine a run is on can be suspended under it: a virtual machine is paused (for a
// snapshot, say) and resumed seconds later. While it is paused, the guest's monotonic clock
// stands still; on resume its wall clock is stepped forward to the host's time. Every client
// whose bounds are measured on the wall clock (kafka-python's connection timeout is
// `time.time() > last_attempt + request_timeout_ms`) then sees its bound run out at once, and
// the try fails for a reason that is neither the endpoint's nor the client's.
//
// Seen for real: in a CI run on this machine kind, all three workers stopped for 16 s at the
// same moment, a 5 s load sampler's gap was 21 s (5 s of sleep + 16 s paused: the monotonic
// clock had stood still), the kernel logged "crng reseeded due to virtual machine fork", and a
// kafka-python SSL login failed with "Connection attempt … <handshake> timed out".
//
// Detection: how far the wall clock runs ahead of the monotonic clock. Both advance together
// (NTP slews by at most 0.5 ms/s), so a change of a second or more during a try means the
// machine was suspended, or its clock stepped, while the try ran. Such a try's failure is not
// evidence about the endpoint: it is not counted, and the cell says so (fixtures/conformance.ts
// notes the try, the results reporter decides the cell).

/** How far the wall clock is ahead of the monotonic clock, in ms (constant but for a suspension or a clock step). */
export function wallClockLeadMs(): number {
  return Date.now() - (performance.timeOrigin + performance.now());
}

/** The smallest change of the wall clock's lead that counts as a suspension. */
export const SUSPENSION_MIN_MS = 1_000;

/** A try of a cell that failed while the machine was suspended (or its wall clock stepped). */
export interface SuspendedTry {
  /** 1-based. */
  try: number;
  /** How far the wall clock moved against the monotonic clock during the try (ms; negative: stepped back). */
  jumpMs: number;
}

/** Watches one try: `jumpMs()` is how far the wall clock has moved against the monotonic clock since. */
export function watchTry(): { jumpMs(): number } {
  const start = wallClockLeadMs();
  return { jumpMs: () => wallClockLeadMs() - start };
}

/** A suspension's one-line description, for the cell. */
export function describeSuspension(s: SuspendedTry): string {
  const secs = (Math.abs(s.jumpMs) / 1000).toFixed(1);
  return s.jumpMs >= 0
    ? `the machine was suspended for about ${secs} s during try ${s.try} (its wall clock moved ${secs} s past its monotonic clock, as when a virtual machine is paused and resumed)`
    : `the machine's wall clock was stepped back ${secs} s during try ${s.try}`;
}

/**
 * A cell that passed on try `retryCount + 1`: were all its failed tries (1 … retryCount)
 * suspended? Then none of its failures is evidence, and it passed: `voided` lists them. Otherwise
 * it is flaky, and `suspended` lists those of its failed tries that were suspended.
 */
export function settleRetriedPass(retryCount: number, suspended: readonly SuspendedTry[]): { voided: boolean; suspended: SuspendedTry[] } {
  const failed = suspended.filter((s) => s.try >= 1 && s.try <= retryCount);
  const tries = new Set(failed.map((s) => s.try));
  return { voided: retryCount > 0 && tries.size === retryCount, suspended: failed };
}

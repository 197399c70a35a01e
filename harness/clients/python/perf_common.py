"""The bench operations of harness/clients/PROTOCOL.md ("Bench operations"), shared by the
Python drivers: the driver generates and sends the records itself, so what is measured is the
client library, not the JSON-lines channel. Each driver supplies small callables (send one
value, flush, poll a batch of values, wait for an assignment); the loops, the timing and the
stamp format live here once.

A latency record's value starts with the send time as 16 ASCII digits of microseconds since
the epoch (the wall clock every driver on the machine shares), padded with filler to the
record size; the consumer subtracts it from its own receive time.
"""

import threading
import time

STAMP_LEN = 16


def payload(size):
    """`size` bytes of A..Z, the same for every driver."""
    return bytes(65 + (i % 26) for i in range(size))


def now_us():
    return time.time_ns() // 1000


def stamp_of(value):
    return int(value[:STAMP_LEN])


def _rates(n, nbytes, seconds):
    seconds = max(seconds, 1e-9)
    return {"records_per_sec": n / seconds, "mb_per_sec": nbytes / (1024.0 * 1024.0) / seconds}


def run_produce(send, flush, failures, n, size, warmup=None):
    """Sends `n` records of `size` bytes as fast as the client takes them, then flushes. With
    `warmup` (a callable that sends one record and waits for its acknowledgement), connection,
    login and metadata are done before the clock starts."""
    value = payload(size)
    if warmup is not None:
        warmup(value)
    t0 = time.perf_counter()
    for _ in range(n):
        send(value)
    flush()
    seconds = time.perf_counter() - t0
    failed, first = failures()
    if failed:
        raise first
    out = {"records": n, "failed": 0, "elapsed_ms": seconds * 1000.0}
    out.update(_rates(n, n * size, seconds))
    return out


class Assignment:
    """Set from the client's rebalance callback: when the consumer got its partitions."""

    def __init__(self):
        self.at = None

    def assigned(self, *_args):
        if self.at is None:
            self.at = time.perf_counter()


def run_consume(poll, n, timeout_ms, timeout_error, assignment):
    """Reads `n` records; the clock runs from the moment the partition was assigned (the group
    join left out) to the last record."""
    t_start = time.perf_counter()
    deadline = time.monotonic() + timeout_ms / 1000.0
    got = 0
    nbytes = 0
    t_last = t_start
    while got < n:
        if time.monotonic() > deadline:
            raise timeout_error("consumed %d of %d records within %d ms" % (got, n, timeout_ms))
        values = poll(0.5)
        if not values:
            continue
        t_last = time.perf_counter()
        got += len(values)
        nbytes += sum(len(v or b"") for v in values)
    t0 = assignment.at if assignment.at is not None else t_start
    measured = t_last - t0
    out = {"records": got, "bytes": nbytes, "elapsed_ms": measured * 1000.0, "total_ms": (t_last - t_start) * 1000.0}
    out.update(_rates(got, nbytes, measured))
    return out


def run_latency(wait_assigned, send, flush, poll, rate, duration_ms, size, timeout_error):
    """Once the consumer has its assignment, a producer thread sends stamped records at `rate`
    per second for `duration_ms`; this thread receives them and records receive - send time."""
    if size < STAMP_LEN:
        raise ValueError("record_size must be at least %d for latency records" % STAMP_LEN)
    wait_assigned()
    n = max(1, int(rate * duration_ms / 1000.0))
    filler = payload(size)[STAMP_LEN:]
    # One warm-up record (stamp 0) goes round first, so the fetch path is running when the clock does.
    send(b"0" * STAMP_LEN + filler)
    flush()
    deadline = time.monotonic() + 30.0
    while not any(stamp_of(v) == 0 for v in poll(0.1)):
        if time.monotonic() > deadline:
            raise timeout_error("the warm-up latency record did not come back within 30 s")
    sent = [0]
    errors = []

    def producer_loop():
        try:
            t0 = time.perf_counter()
            for i in range(n):
                wait = t0 + i / float(rate) - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                send(b"%016d" % now_us() + filler)
                sent[0] += 1
            flush()
        except Exception as e:  # surfaced on the command's thread
            errors.append(e)

    thread = threading.Thread(target=producer_loop, name="perf-latency-producer", daemon=True)
    thread.start()
    latencies = []
    deadline = time.monotonic() + duration_ms / 1000.0 + 30.0
    while len(latencies) < n:
        if errors:
            raise errors[0]
        if time.monotonic() > deadline:
            raise timeout_error("received %d of %d latency records (%d sent)" % (len(latencies), n, sent[0]))
        for v in poll(0.1):
            stamp = stamp_of(v)
            if stamp:
                latencies.append(now_us() - stamp)
    thread.join(10)
    if errors:
        raise errors[0]
    return {"sent": sent[0], "received": len(latencies), "latencies_us": latencies}


def wait_until(check, step, seconds, what, timeout_error):
    """Calls `step()` until `check()` is true, at most `seconds`."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise timeout_error("%s within %d s" % (what, seconds))
        step()

"""The driver side of harness/clients/PROTOCOL.md, shared by every Python driver.

A driver module supplies its client name, version, capabilities and one handler per
operation; this module owns the JSON-lines loop, the watchdog (parent gone, stdin closed,
SIGTERM), redaction of secrets and the bookkeeping of open clients so that every exit path
closes them.
"""

import json
import logging
import os
import re
import signal
import sys
import threading
import time
import traceback

# stdout carries protocol events only; everything else goes to stderr.
_out = sys.stdout
_out_lock = threading.Lock()

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}")
_TOKEN = re.compile(r"token:[^\s\"',;}]+")
_secrets = set()
_secrets_lock = threading.Lock()


def register_secret(value):
    if isinstance(value, str) and len(value) >= 6:
        with _secrets_lock:
            _secrets.add(value)


def redact(text):
    text = str(text)
    with _secrets_lock:
        known = list(_secrets)
    for s in known:
        text = text.replace(s, "<redacted>")
    return _TOKEN.sub("token:<redacted>", _JWT.sub("<redacted-jwt>", text))


class _RedactingFormatter(logging.Formatter):
    def format(self, record):
        return redact(super().format(record))


def setup_logging():
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.captureWarnings(True)


def log(msg):
    sys.stderr.write(redact(msg) + "\n")
    sys.stderr.flush()


def emit(event):
    line = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    with _out_lock:
        _out.write(line + "\n")
        _out.flush()


def emit_committed(cid, offsets):
    """The `offsets_committed` event for {(topic, partition): next offset}."""
    emit({"event": "offsets_committed", "id": cid,
          "offsets": [{"topic": t, "partition": p, "offset": str(o)} for (t, p), o in sorted(offsets.items())]})


class DriverError(Exception):
    """A failure already translated to a canonical code."""

    def __init__(self, code, message, cls=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.cls = cls or "DriverError"


# Clients a command has open: closed on SIGTERM / watchdog exit as well as in `finally`.
_open_clients = []
_open_lock = threading.Lock()


def track(client, closer):
    with _open_lock:
        _open_clients.append((client, closer))
    return client


def untrack(client):
    with _open_lock:
        _open_clients[:] = [(c, f) for (c, f) in _open_clients if c is not client]


def close_quietly(client, closer):
    try:
        closer(client)
    except Exception as e:  # closing is best effort; the command's own error matters
        log("close failed: %s: %s" % (type(e).__name__, e))
    finally:
        untrack(client)


def _close_all_bounded(seconds):
    """Closes every open client, each on its own thread (consumer sessions leave their groups
    in parallel), and returns after `seconds` at the latest."""
    with _open_lock:
        pending = list(_open_clients)
    if not pending:
        return

    def run(client, closer):
        try:
            closer(client)
        except Exception:
            pass

    threads = [threading.Thread(target=run, args=pair, name="close-all", daemon=True) for pair in pending]
    for t in threads:
        t.start()
    deadline = time.monotonic() + seconds
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))


def _exit(code, why):
    log("driver exiting: %s" % why)
    _close_all_bounded(3.0)
    try:
        sys.stderr.flush()
        _out.flush()
    finally:
        os._exit(code)


def _watch_parent():
    pid = os.environ.get("KOPC_PARENT_PID")
    if not pid:
        return
    pid = int(pid)
    while True:
        time.sleep(0.5)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            _exit(0, "parent process %d is gone" % pid)
        except PermissionError:
            pass  # exists, owned by someone else


def _read_stdin(queue_put):
    for line in sys.stdin:
        queue_put(line)
    queue_put(None)


def run(client, version, capabilities, handlers, extra_startup=None):
    """Serves commands until shutdown, EOF, SIGTERM or the parent's death."""
    import queue

    setup_logging()
    signal.signal(signal.SIGTERM, lambda *_: _exit(0, "SIGTERM"))
    threading.Thread(target=_watch_parent, name="parent-watchdog", daemon=True).start()
    commands = queue.Queue()
    threading.Thread(target=_read_stdin, args=(commands.put,), name="stdin", daemon=True).start()

    startup = {"event": "startup_complete", "client": client, "version": version, "capabilities": capabilities}
    startup.update(extra_startup or {})
    emit(startup)

    while True:
        line = commands.get()
        if line is None:
            _exit(0, "stdin closed")
        line = line.strip()
        if not line:
            continue
        try:
            cmd = json.loads(line)
        except ValueError:
            log("ignoring a command line that is not JSON")
            continue
        cid = cmd.get("id")
        op = cmd.get("op")
        conn = cmd.get("conn")
        if isinstance(conn, dict):
            register_secret(conn.get("password"))
            register_secret((conn.get("ssl") or {}).get("truststore_password"))
        if op == "shutdown":
            _close_all_bounded(5.0)
            emit({"event": "result", "id": cid, "ok": True, "data": {}})
            _exit(0, "shutdown command")
        handler = handlers.get(op)
        if handler is None:
            emit({"event": "result", "id": cid, "ok": False,
                  "error": {"code": "UNSUPPORTED_SETTING", "message": "unknown op %r" % op, "class": "DriverError"}})
            continue
        try:
            data = handler(cid, cmd)
            emit({"event": "result", "id": cid, "ok": True, "data": data})
        except DriverError as e:
            emit({"event": "result", "id": cid, "ok": False,
                  "error": {"code": e.code, "message": redact(e.message), "class": e.cls}})
        except Exception as e:  # a driver bug: say so, with the trace on stderr
            log(traceback.format_exc())
            emit({"event": "result", "id": cid, "ok": False,
                  "error": {"code": "UNKNOWN", "message": redact("%s" % e), "class": type(e).__name__}})


def decode(b):
    if b is None:
        return None
    if isinstance(b, str):
        return b
    return bytes(b).decode("utf-8", errors="replace")


def encode(s):
    return None if s is None else str(s).encode("utf-8")


def headers_out(headers):
    """Protocol headers object → list of (str, bytes) as both libraries take them."""
    return [(str(k), encode(v) if v is not None else None) for k, v in (headers or {}).items()]


def headers_in(headers):
    out = {}
    for k, v in headers or []:
        out[decode(k)] = decode(v) if v is not None else ""
    return out


class DistinctRecords:
    """What a consume's count counts: distinct records, by (topic, partition, offset). A record
    delivered again (a consumer that lost its membership re-reads from the last commit) is kept
    in the result, for the delivery checker, but not counted (harness/clients/consume-count.ts)."""

    def __init__(self):
        self._seen = set()

    def add(self, topic, partition, offset):
        self._seen.add((topic, partition, offset))
        return len(self._seen)

    def __len__(self):
        return len(self._seen)


def exception_chain(exc):
    """exc, then its __cause__ / __context__ ancestors (libraries often re-raise)."""
    seen = []
    while exc is not None and exc not in seen and len(seen) < 10:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


# ---------------------------------------------------------------------------------------
# Consumer sessions (PROTOCOL.md, "Consumer sessions")
#
# A session is one group member that lives across commands. Each session owns one thread
# that makes every call on its consumer, one at a time and in order; a command hands its
# call to that thread and waits a bounded time. A poll whose group work (joining, a
# rebalance) overruns its bound thus answers with what it has while the call finishes in
# the background; the records that call returns are handed out by the next poll. This is
# what keeps kafka-python 2.0.2 within `timeout_ms` + 5 s: its KafkaConsumer.poll() runs
# ensure_active_group(), which loops without a time limit until the member has joined.
# Commit, seek and close queue behind an unfinished poll, so the consumer is never used by
# two threads at once.
#
# A driver supplies a "member" object whose methods run on the session thread and raise
# DriverError (already translated):
#   poll(timeout_ms)                 -> [record dicts in the `consume` shape]
#   assignment()                     -> iterable of (topic, partition)
#   commit({(topic, partition): o})  -> None (synchronous)
#   seek(topic, partition, offset)   -> None (the partition is assigned: checked before)
#   close()                          -> None, after leaving the group

# Margin over timeout_ms a poll waits for its call (the protocol allows 5 s).
POLL_SLACK_S = 2.0
# Whole-command bounds for commit / seek / close, a queued unfinished poll included (the
# parent allows 45 s for these).
COMMIT_WAIT_S = 30.0
SEEK_WAIT_S = 30.0
CLOSE_WAIT_S = 30.0
# On shutdown / exit: how long one session may take to leave its group.
EXIT_CLOSE_S = 4.0


class _Call:
    def __init__(self, fn):
        self._fn = fn
        self._done = threading.Event()
        self._value = None
        self._error = None

    def run(self):
        try:
            self._value = self._fn()
        except BaseException as e:  # handed to whoever waits for the call
            self._error = e
        finally:
            self._done.set()

    def wait(self, seconds):
        return self._done.wait(max(0.0, seconds))

    def result(self):
        if self._error is not None:
            raise self._error
        return self._value


class _SessionThread:
    def __init__(self, name):
        import queue

        self._calls = queue.Queue()
        threading.Thread(target=self._serve, name=name, daemon=True).start()

    def _serve(self):
        while True:
            call = self._calls.get()
            if call is None:
                return
            call.run()

    def submit(self, fn):
        call = _Call(fn)
        self._calls.put(call)
        return call

    def stop(self):
        self._calls.put(None)


def _assignment_out(pairs):
    return [{"topic": t, "partition": p} for (t, p) in sorted(set((str(t), int(p)) for (t, p) in pairs))]


class _Session:
    def __init__(self, handle, member):
        self.handle = handle
        self.member = member
        self.thread = _SessionThread("session-%s" % handle)
        self.lock = threading.Lock()  # the command loop vs the exit path
        self.next_offsets = {}  # (topic, partition) -> offset after the last record returned
        self.carry = []  # records a finished background poll returned, not yet handed out
        self.assignment = []  # as of the last poll call that finished
        self.pending = None  # a poll call that overran its command's bound
        self.closed = False

    def _poll_call(self, timeout_ms):
        records = self.member.poll(timeout_ms)
        return records, list(self.member.assignment())

    def _collect(self, seconds):
        """Waits up to `seconds` for an unfinished poll; True when none is left."""
        call = self.pending
        if call is None:
            return True
        if not call.wait(seconds):
            return False
        self.pending = None
        records, assignment = call.result()
        self.carry.extend(records)
        self.assignment = assignment
        return True

    def poll(self, cid, timeout_ms):
        deadline = time.monotonic() + timeout_ms / 1000.0 + POLL_SLACK_S
        if self._collect(deadline - time.monotonic()) and not self.carry:
            self.pending = self.thread.submit(lambda: self._poll_call(timeout_ms))
            self._collect(deadline - time.monotonic())
        if self.pending is not None:
            log("session %s: poll still busy after %d ms (+%.1f s); answering with what it has"
                % (self.handle, timeout_ms, POLL_SLACK_S))
            # Mid-join the member owns nothing it could report with certainty.
            records, assignment = [], []
        else:
            records, assignment = self.carry, self.assignment
            self.carry = []
        for r in records:
            self.next_offsets[(r["topic"], r["partition"])] = int(r["offset"]) + 1
        if records:
            emit({"event": "records_consumed", "id": cid, "count": len(records)})
        return {"records": records, "assignment": _assignment_out(assignment)}

    def _run(self, fn, seconds, what):
        call = self.thread.submit(fn)
        if not call.wait(seconds):
            raise DriverError("TIMEOUT", "%s did not finish within %.0f s (the session's consumer is still busy%s)"
                              % (what, max(0.0, seconds), " with an earlier poll's group work" if self.pending else ""))
        return call.result()

    def commit(self, cid):
        offsets = dict(self.next_offsets)
        if offsets:
            self._run(lambda: self.member.commit(offsets), COMMIT_WAIT_S, "commit")
            emit_committed(cid, offsets)
        return {"offsets": [{"topic": t, "partition": p, "offset": str(o)} for (t, p), o in sorted(offsets.items())]}

    def seek(self, topic, partition, offset):
        deadline = time.monotonic() + SEEK_WAIT_S
        if not self._collect(SEEK_WAIT_S):
            raise DriverError("TIMEOUT", "seek: the session's previous poll did not finish within %d s" % SEEK_WAIT_S)
        # Records fetched before the seek are not "from offset on": drop that partition's.
        self.carry = [r for r in self.carry if (r["topic"], r["partition"]) != (topic, partition)]
        def run():
            # The protocol's rule for every client: seek only a partition the member holds.
            if (topic, partition) not in set(self.member.assignment()):
                raise DriverError("UNKNOWN", "seek: %s-%d is not assigned to this member (poll until it is)"
                                  % (topic, partition), "IllegalStateError")
            self.member.seek(topic, partition, offset)
        self._run(run, deadline - time.monotonic(), "seek")
        return {}

    def close(self, seconds):
        with self.lock:
            if self.closed:
                return
            self.closed = True
        untrack(self)
        try:
            self._run(self.member.close, seconds, "close")
        finally:
            self.thread.stop()


_sessions = {}
_sessions_lock = threading.Lock()
_session_seq = [0]


def open_session(member, prefix="consumer"):
    """Registers a subscribed member; returns its handle."""
    with _sessions_lock:
        _session_seq[0] += 1
        handle = "%s-%d" % (prefix, _session_seq[0])
        session = _Session(handle, member)
        _sessions[handle] = session
    # shutdown, SIGTERM and the watchdog close it too (leaving the group).
    track(session, lambda s: s.close(EXIT_CLOSE_S))
    return handle


def _session(cmd):
    handle = cmd.get("handle")
    with _sessions_lock:
        session = _sessions.get(handle)
    if session is None:
        raise DriverError("UNKNOWN", "no open consumer session %r" % (handle,))
    return session


def session_member(handle):
    """The member object of an open session (a transactional producer needs its group metadata)."""
    return _session({"handle": handle}).member


def session_call(handle, fn, what, seconds=COMMIT_WAIT_S):
    """Runs `fn` on the session's own thread (the one that owns its consumer), bounded."""
    return _session({"handle": handle})._run(fn, seconds, what)


def consumer_poll(cid, cmd):
    timeout_ms = int(cmd["timeout_ms"])
    if timeout_ms < 0:
        raise DriverError("UNSUPPORTED_SETTING", "timeout_ms must not be negative")
    return _session(cmd).poll(cid, timeout_ms)


def consumer_commit(cid, cmd):
    return _session(cmd).commit(cid)


def consumer_seek(cid, cmd):
    offset = int(cmd["offset"])
    if offset < 0:
        raise DriverError("UNSUPPORTED_SETTING", "offset must be >= 0, got %r" % (cmd["offset"],))
    return _session(cmd).seek(str(cmd["topic"]), int(cmd["partition"]), offset)


def consumer_close(cid, cmd):
    with _sessions_lock:
        session = _sessions.pop(cmd.get("handle"), None)
    if session is not None:  # an unknown (or already closed) handle is not an error
        session.close(CLOSE_WAIT_S)
    return {}


SESSION_HANDLERS = {
    "consumer_poll": consumer_poll,
    "consumer_commit": consumer_commit,
    "consumer_seek": consumer_seek,
    "consumer_close": consumer_close,
}


def session_handlers(seek=True):
    """The session ops for dc.run (consumer_open is the driver's own); without `seek` when
    the client cannot seek."""
    return {op: h for op, h in SESSION_HANDLERS.items() if seek or op != "consumer_seek"}

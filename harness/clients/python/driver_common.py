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
    with _open_lock:
        pending = list(_open_clients)
    if not pending:
        return

    def run():
        for client, closer in pending:
            try:
                closer(client)
            except Exception:
                pass

    t = threading.Thread(target=run, name="close-all", daemon=True)
    t.start()
    t.join(seconds)


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


def exception_chain(exc):
    """exc, then its __cause__ / __context__ ancestors (libraries often re-raise)."""
    seen = []
    while exc is not None and exc not in seen and len(seen) < 10:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen

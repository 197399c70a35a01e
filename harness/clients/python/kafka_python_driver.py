"""PROTOCOL.md driver for kafka-python, written against the API the seed documents
(KafkaProducer / KafkaConsumer / KafkaAdminClient with security_protocol, sasl_mechanism,
sasl_plain_username/password, ssl_cafile, ssl_context). The same program runs under
kafka-python 2.0.2 and the current 3.x; the few differences are handled by asking the
library (DEFAULT_CONFIG, exception classes), never by branching on a version string.

How kafka-python reports a refused login (measured against Apache Kafka 3.9.1):

* 2.0.2 predates SaslAuthenticate (KIP-152): it sends the raw PLAIN token after a v0/v1
  SaslHandshake, and in that mode the broker's only answer to bad credentials is to close
  the connection. The library logs "Error receiving reply from server" with a
  ConnectionError while the connection is `<authenticating>` and the caller gets
  NoBrokersAvailable (about 2.5 s). The driver reports SASL_AUTHENTICATION_FAILED only
  when it saw exactly that (a peer reset during SASL authentication) and says in the
  message that the code was inferred.
* 3.x receives the broker's SaslAuthenticate error (errno 58), but treats it as a failed
  bootstrap attempt and retries until `bootstrap_timeout_ms`, then raises
  KafkaTimeoutError("Unable to bootstrap"). The SaslAuthenticationFailedError instance is
  passed to its log calls; the driver collects it from there. BOOTSTRAP_TIMEOUT_MS bounds
  how long a refused login takes to report. 3.0.12 can also lose that answer: its transport
  (kafka/net/transport.py, _read_from_sock) discards bytes read together with EOF, and the
  broker closes right after the error response, so some attempts see only "socket
  disconnected". If every attempt lost it, the driver reports TIMEOUT (what the library
  said), with the last logged connection error in the message.
* A certificate the client does not trust: 2.0.2 raises ssl.SSLCertVerificationError at
  once; 3.x retries like above and logs KafkaConnectionError("Handshake failed: …") whose
  __context__ is the ssl error.
"""

import errno as errno_mod
import logging
import socket
import ssl
import sys
import threading
import time

import kafka
import kafka.errors as Errors
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic

import driver_common as dc
from driver_common import DriverError, decode, encode, exception_chain, headers_in, headers_out

VERSION = getattr(kafka, "__version__", "unknown")
# Codecs other than gzip need optional packages (python-snappy, lz4, zstandard) the
# requirements do not install; idempotence arrived in kafka-python 2.1.
CAPABILITIES = ["headers", "admin.createTopics", "groups.commit", "produce.acks", "compression.gzip",
                "timestamps", "commit.async", "commit.auto"]
if "enable_idempotence" in KafkaProducer.DEFAULT_CONFIG:
    CAPABILITIES.append("produce.idempotent")

# Bounds on every blocking call (PROTOCOL.md: the driver bounds its own waits).
REQUEST_TIMEOUT_MS = 15000
BOOTSTRAP_TIMEOUT_MS = 7000  # 3.x only: how long a failed first connection is retried
MAX_BLOCK_MS = 15000  # producer: metadata wait in send()
SEND_TIMEOUT_S = 30
COMMIT_TIMEOUT_S = 10

SASL_ERRORS = tuple(c for c in (getattr(Errors, "SaslAuthenticationFailedError", None),
                                getattr(Errors, "AuthenticationFailedError", None)) if c)
BROKER_ERROR = Errors.BrokerResponseError
# Failures that only say "could not get a working connection"; the cause is in the logs.
GENERIC_CONNECTIVITY = tuple(getattr(Errors, n) for n in (
    "NoBrokersAvailable", "KafkaConnectionError", "NodeNotReadyError", "KafkaTimeoutError") if hasattr(Errors, n))


# ---------------------------------------------------------------------------------------
# What the library logged while a command ran: the only place some causes are visible.

class _Observations(logging.Handler):
    PRIORITY = ["SASL_AUTHENTICATION_FAILED", "TLS_HANDSHAKE_FAILED", "BROKER", "CONNECTION_REFUSED", "HOST_UNRESOLVABLE"]

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self._lock2 = threading.Lock()
        self.found = {}

    def reset(self):
        with self._lock2:
            self.found = {}

    def _note(self, code, detail, replace=False):
        with self._lock2:
            if replace:
                self.found[code] = detail
            else:
                self.found.setdefault(code, detail)

    def last(self):
        with self._lock2:
            return self.found.get("LAST")

    def emit(self, record):
        try:
            self._observe(record)
        except Exception:
            pass

    def _observe(self, record):
        args = record.args if isinstance(record.args, tuple) else ()
        excs = [a for a in args if isinstance(a, BaseException)]
        if record.exc_info and record.exc_info[1] is not None:
            excs.append(record.exc_info[1])
        for exc in excs:
            for e in exception_chain(exc):
                if isinstance(e, ssl.SSLError):
                    self._note("TLS_HANDSHAKE_FAILED", "%s: %s" % (type(e).__name__, e))
                elif SASL_ERRORS and isinstance(e, SASL_ERRORS):
                    self._note("SASL_AUTHENTICATION_FAILED", "%s: %s" % (type(e).__name__, e))
                elif isinstance(e, BROKER_ERROR) and getattr(e, "message", None):
                    self._note("BROKER", (e.message, "%s: %s" % (type(e).__name__, e)))
                elif isinstance(e, ConnectionRefusedError):
                    self._note("CONNECTION_REFUSED", "%s: %s" % (type(e).__name__, e))
                elif isinstance(e, socket.gaierror):
                    self._note("HOST_UNRESOLVABLE", "%s: %s" % (type(e).__name__, e))
                elif isinstance(e, ConnectionError) and args and _authenticating(args[0]):
                    # 2.0.2, raw SASL tokens: the broker closes the socket on a refused login.
                    self._note("SASL_AUTHENTICATION_FAILED",
                               "inferred: the broker closed the connection during SASL %s authentication "
                               "(%s: %s); without SaslAuthenticate that is how Kafka refuses a login"
                               % ("PLAIN", type(e).__name__, e))
        if excs:
            self._note("LAST", "%s: %s" % (type(excs[-1]).__name__, excs[-1]), replace=True)
        msg = str(record.msg)
        if msg.startswith("Connect attempt to") and errno_mod.ECONNREFUSED in args:
            self._note("CONNECTION_REFUSED", "connection refused")
        elif msg.startswith("DNS lookup failed"):
            self._note("HOST_UNRESOLVABLE", "DNS lookup failed")

    def best(self):
        with self._lock2:
            for code in self.PRIORITY:
                if code in self.found:
                    d = self.found[code]
                    return (d[0], d[1]) if code == "BROKER" else (code, d)
        return None


def _authenticating(conn_obj):
    state = getattr(conn_obj, "state", None)
    return state is not None and "authenticating" in str(state).lower()


OBS = _Observations()
logging.getLogger("kafka").addHandler(OBS)


# ---------------------------------------------------------------------------------------
# Errors → canonical codes

def _canonical(exc):
    chain = exception_chain(exc)
    for e in chain:
        if isinstance(e, ssl.SSLError):
            return "TLS_HANDSHAKE_FAILED", None
        if SASL_ERRORS and isinstance(e, SASL_ERRORS):
            return "SASL_AUTHENTICATION_FAILED", None
    if isinstance(exc, Errors.MessageSizeTooLargeError):
        # Client-side (max_request_size) and broker errno 10 alike; same code as the other drivers.
        return "RECORD_TOO_LARGE", None
    if isinstance(exc, Errors.TopicAuthorizationFailedError):
        return "TOPIC_AUTHORIZATION_FAILED", None
    if isinstance(exc, GENERIC_CONNECTIVITY):
        seen = OBS.best()
        if seen:
            return seen
        if isinstance(exc, Errors.KafkaTimeoutError):
            return "TIMEOUT", None
        if "socket disconnected" in str(exc):
            return "CONNECTION_CLOSED", None
        return "UNKNOWN", None
    if isinstance(exc, ValueError) and "Topic name" in str(exc) and "illegal" in str(exc):
        # kafka-python refuses an invalid topic name before asking the broker.
        return "INVALID_TOPIC_EXCEPTION", None
    if isinstance(exc, BROKER_ERROR) and getattr(exc, "message", None):
        return str(exc.message).upper(), None
    for e in chain:
        if isinstance(e, ConnectionRefusedError):
            return "CONNECTION_REFUSED", None
        if isinstance(e, socket.gaierror):
            return "HOST_UNRESOLVABLE", None
        if isinstance(e, (TimeoutError, socket.timeout)):
            return "TIMEOUT", None
    return "UNKNOWN", None


def translate(exc):
    if isinstance(exc, DriverError):
        return exc
    code, observed = _canonical(exc)
    msg = "%s" % (exc,) or type(exc).__name__
    if observed:
        msg = "%s (cause seen in kafka-python's log: %s)" % (msg or type(exc).__name__, observed)
    elif isinstance(exc, GENERIC_CONNECTIVITY) and OBS.last():
        msg = "%s (last connection error kafka-python logged: %s)" % (msg or type(exc).__name__, OBS.last())
    return DriverError(code, msg, type(exc).__module__ + "." + type(exc).__name__)


# ---------------------------------------------------------------------------------------
# Configuration

def _config(conn, cls, extra=None, required=()):
    ssl_conf = conn.get("ssl")
    cfg = {
        "bootstrap_servers": [conn["bootstrap"]],
        "security_protocol": conn["security_protocol"],
        "sasl_mechanism": conn.get("sasl_mechanism", "PLAIN"),
        "sasl_plain_username": conn["username"],
        "sasl_plain_password": conn["password"],
        "client_id": "kop-conformance-kafka-python",
        "request_timeout_ms": REQUEST_TIMEOUT_MS,
        "bootstrap_timeout_ms": BOOTSTRAP_TIMEOUT_MS,
    }
    if ssl_conf is not None:
        ca = ssl_conf.get("ca_pem_path")
        if not ssl_conf.get("verify", True):
            # Exactly as the seed's examples: verification off through an ssl context.
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            cfg["ssl_context"] = context
            if ca:
                cfg["ssl_cafile"] = ca
        else:
            if ca:
                cfg["ssl_cafile"] = ca
            cfg["ssl_check_hostname"] = bool(ssl_conf.get("hostname_verification", True))
    cfg.update(extra or {})
    known = cls.DEFAULT_CONFIG
    missing = [k for k in required if k not in known]
    if missing:
        raise DriverError("UNSUPPORTED_SETTING", "kafka-python %s has no %s" % (VERSION, ", ".join(missing)))
    # Bounds this version does not know (bootstrap_timeout_ms is 3.x only) are dropped.
    return {k: v for k, v in cfg.items() if k in known}


def _open(cls, cfg, *args):
    try:
        return dc.track(cls(*args, **cfg), lambda c: c.close())
    except Exception as e:
        raise translate(e)


def _close(client, closer=None):
    dc.close_quietly(client, closer or (lambda c: c.close()))


# ---------------------------------------------------------------------------------------
# Operations

def check_login(cid, cmd):
    OBS.reset()
    admin = _open(KafkaAdminClient, _config(cmd["conn"], KafkaAdminClient))
    try:
        info = admin.describe_cluster()
        return {"brokers": len(info.get("brokers") or [])}
    except Exception as e:
        raise translate(e)
    finally:
        _close(admin)


def create_topics(cid, cmd):
    OBS.reset()
    admin = _open(KafkaAdminClient, _config(cmd["conn"], KafkaAdminClient))
    try:
        for t in cmd.get("topics") or []:
            new = NewTopic(name=t["name"], num_partitions=int(t.get("partitions") or 1), replication_factor=1)
            try:
                resp = admin.create_topics([new], timeout_ms=REQUEST_TIMEOUT_MS)
            except Errors.TopicAlreadyExistsError:
                continue
            # 2.0.2 returns the raw response without raising on per-topic errors.
            for entry in getattr(resp, "topic_errors", None) or []:
                code = entry[1]
                if code not in (0, Errors.TopicAlreadyExistsError.errno):
                    err_cls = Errors.for_code(code)
                    raise err_cls("%s: %s" % (entry[0], entry[2] if len(entry) > 2 else ""))
        return {}
    except Exception as e:
        raise translate(e)
    finally:
        _close(admin)


_ACKS = {"0": 0, "1": 1, "all": "all", "-1": "all"}


def produce(cid, cmd):
    OBS.reset()
    extra = {"max_block_ms": MAX_BLOCK_MS}
    required = []
    if cmd.get("acks") is not None:
        extra["acks"] = _ACKS.get(str(cmd["acks"]), cmd["acks"])
    if cmd.get("compression"):
        extra["compression_type"] = None if cmd["compression"] == "none" else cmd["compression"]
    if cmd.get("idempotence") is not None:
        extra["enable_idempotence"] = bool(cmd["idempotence"])
        if cmd["idempotence"]:
            required.append("enable_idempotence")
    cfg = _config(cmd["conn"], KafkaProducer, extra, required)
    try:
        producer = _open(KafkaProducer, cfg)
    except DriverError as e:
        if "compression codec" in e.message:
            raise DriverError("UNSUPPORTED_SETTING", e.message, e.cls)
        raise
    topic = cmd["topic"]
    try:
        futures = []
        for r in cmd.get("records") or []:
            kwargs = {"key": encode(r.get("key")), "value": encode(r.get("value"))}
            if r.get("headers"):
                kwargs["headers"] = headers_out(r["headers"])
            if r.get("partition") is not None:
                kwargs["partition"] = int(r["partition"])
            if r.get("timestamp") is not None:
                kwargs["timestamp_ms"] = int(r["timestamp"])
            futures.append(producer.send(topic, **kwargs))
        producer.flush(timeout=SEND_TIMEOUT_S)
        out = []
        for f in futures:
            md = f.get(timeout=SEND_TIMEOUT_S)
            rec = {"topic": md.topic, "partition": md.partition, "offset": str(md.offset)}
            dc.emit({"event": "producer_send_success", "id": cid, **rec})
            out.append(rec)
        return {"records": out}
    except Exception as e:
        raise translate(e)
    finally:
        _close(producer, lambda p: p.close(timeout=5))


def consume(cid, cmd):
    OBS.reset()
    mode = cmd.get("commit") or "sync"
    if mode not in ("sync", "async", "auto", "none"):
        raise DriverError("UNSUPPORTED_SETTING", "commit mode %r" % mode)
    count = int(cmd["count"])
    timeout_ms = int(cmd["timeout_ms"])
    extra = {
        "group_id": cmd["group_id"],
        "auto_offset_reset": "earliest" if cmd.get("from_beginning") else "latest",
        "enable_auto_commit": mode == "auto",
        "session_timeout_ms": 10000,
        "heartbeat_interval_ms": 3000,
    }
    consumer = _open(KafkaConsumer, _config(cmd["conn"], KafkaConsumer, extra))
    deadline = time.monotonic() + timeout_ms / 1000.0
    got = []
    try:
        consumer.subscribe(topics=list(cmd["topics"]))
        while len(got) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            batch = consumer.poll(timeout_ms=int(min(left, 0.5) * 1000) or 1, max_records=count - len(got))
            n = 0
            for _tp, msgs in batch.items():
                for m in msgs:
                    got.append(m)
                    n += 1
            if n:
                dc.emit({"event": "records_consumed", "id": cid, "count": n})
        if len(got) < count:
            seen = OBS.best()
            if seen:  # e.g. a refused login while joining: say that, not "timeout"
                raise DriverError(seen[0], "consumed %d of %d records; %s" % (len(got), count, seen[1]))
            raise DriverError("TIMEOUT", "consumed %d of %d records within %d ms" % (len(got), count, timeout_ms))
        _commit(cid, consumer, mode, got)
        return {"records": [{
            "topic": m.topic, "partition": m.partition, "offset": str(m.offset),
            "key": decode(m.key), "value": decode(m.value), "headers": headers_in(m.headers),
            "timestamp": str(m.timestamp),
        } for m in got]}
    except Exception as e:
        raise translate(e)
    finally:
        _close(consumer, lambda c: c.close(autocommit=(mode == "auto")))


def _commit(cid, consumer, mode, got):
    if mode in ("none", "auto") or not got:
        return
    offsets = {}
    for m in got:
        offsets[(m.topic, m.partition)] = max(offsets.get((m.topic, m.partition), -1), m.offset + 1)
    if mode == "sync":
        consumer.commit()
    else:
        done = threading.Event()
        result = {}

        def callback(_offsets, response):
            result["response"] = response
            done.set()

        consumer.commit_async(callback=callback)
        end = time.monotonic() + COMMIT_TIMEOUT_S
        # The callback fires from the client's network polling.
        while not done.is_set() and time.monotonic() < end:
            consumer.poll(timeout_ms=100, max_records=1, update_offsets=False)
        if not done.is_set():
            raise DriverError("TIMEOUT", "async commit not acknowledged within %d s" % COMMIT_TIMEOUT_S)
        if isinstance(result.get("response"), Exception):
            raise result["response"]
    dc.emit_committed(cid, offsets)


if __name__ == "__main__":
    dc.run("kafka-python", VERSION, CAPABILITIES, {
        "check_login": check_login,
        "create_topics": create_topics,
        "produce": produce,
        "consume": consume,
    }, {"python": sys.version.split()[0]})

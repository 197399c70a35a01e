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

Consumer sessions: 2.0.2's KafkaConsumer.poll(timeout_ms) does not bound its group work.
It calls ensure_active_group(), which loops until the member has joined; while another
member has not rejoined, the broker holds the JoinGroup for up to the rebalance timeout
(max_poll_interval_ms), so poll(timeout_ms=1000) took 29.6 s (measured against Apache Kafka
3.9.1). 3.x passes the timeout down (coordinator.poll(timeout_ms=…)). The driver bounds both
the same way: driver_common runs each session's calls on its own thread and answers a poll
after timeout_ms + 2 s at the latest, with no records and an empty assignment when the call
has not finished; the call goes on joining in the background and the next poll hands out
what it returned.

The group admin calls were renamed in 3.x (list_groups, describe_groups, list_group_offsets);
the driver uses whichever name the installed version has and answers in one shape.
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
from kafka import ConsumerRebalanceListener, KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic

import driver_common as dc
import perf_common as perf
from driver_common import DriverError, decode, encode, exception_chain, headers_in, headers_out

VERSION = getattr(kafka, "__version__", "unknown")
# Codecs other than gzip need optional packages (python-snappy, lz4, zstandard) the
# requirements do not install; idempotence arrived in kafka-python 2.1.
CAPABILITIES = ["headers", "admin.createTopics", "admin.deleteTopics", "groups.commit", "produce.acks", "compression.gzip",
                "timestamps", "commit.async", "commit.auto"]
if "enable_idempotence" in KafkaProducer.DEFAULT_CONFIG:
    CAPABILITIES.append("produce.idempotent")


def _first_method(cls, *names):
    """The first of `names` that `cls` has: kafka-python 3.x renamed the group admin calls
    (list_consumer_groups → list_groups, describe_consumer_groups → describe_groups,
    list_consumer_group_offsets → list_group_offsets); 2.0.2 has only the old names."""
    for n in names:
        if callable(getattr(cls, n, None)):
            return n
    return None


ADMIN_LIST_TOPICS = _first_method(KafkaAdminClient, "list_topics")
ADMIN_DESCRIBE_TOPICS = _first_method(KafkaAdminClient, "describe_topics")
ADMIN_DESCRIBE_CONFIGS = _first_method(KafkaAdminClient, "describe_configs")
ADMIN_LIST_GROUPS = _first_method(KafkaAdminClient, "list_consumer_groups", "list_groups")
ADMIN_DESCRIBE_GROUPS = _first_method(KafkaAdminClient, "describe_consumer_groups", "describe_groups")
ADMIN_GROUP_OFFSETS = _first_method(KafkaAdminClient, "list_consumer_group_offsets", "list_group_offsets")
HAS_SESSIONS = all(callable(getattr(KafkaConsumer, n, None))
                   for n in ("subscribe", "poll", "assignment", "commit", "close"))
HAS_SEEK = HAS_SESSIONS and callable(getattr(KafkaConsumer, "seek", None))

for _cap, _present in (("admin.listTopics", ADMIN_LIST_TOPICS), ("admin.describeTopics", ADMIN_DESCRIBE_TOPICS),
                       ("admin.describeConfigs", ADMIN_DESCRIBE_CONFIGS),
                       ("admin.groups", ADMIN_LIST_GROUPS and ADMIN_DESCRIBE_GROUPS),
                       ("admin.committedOffsets", ADMIN_GROUP_OFFSETS),
                       ("groups.session", HAS_SESSIONS), ("consumer.seek", HAS_SEEK)):
    if _present:
        CAPABILITIES.append(_cap)

# Bounds on every blocking call (PROTOCOL.md: the driver bounds its own waits).
REQUEST_TIMEOUT_MS = 15000
BOOTSTRAP_TIMEOUT_MS = 7000  # 3.x only: how long a failed first connection is retried
MAX_BLOCK_MS = 15000  # producer: metadata wait in send()
SEND_TIMEOUT_S = 30
COMMIT_TIMEOUT_S = 10
# Group timeouts of a consumer session: a member that stops polling or heartbeating is out
# of the group (and the other members rebalanced) within these bounds.
SESSION_TIMEOUT_MS = 10000
HEARTBEAT_INTERVAL_MS = 1000
MAX_POLL_INTERVAL_MS = 30000

SASL_ERRORS = tuple(c for c in (getattr(Errors, "SaslAuthenticationFailedError", None),
                                getattr(Errors, "AuthenticationFailedError", None)) if c)
BROKER_ERROR = Errors.BrokerResponseError
# Failures that only say "could not get a working connection"; the cause is in the logs.
GENERIC_CONNECTIVITY = tuple(getattr(Errors, n) for n in (
    "NoBrokersAvailable", "KafkaConnectionError", "NodeNotReadyError", "KafkaTimeoutError") if hasattr(Errors, n))


# ---------------------------------------------------------------------------------------
# What the library logged while a command ran: the only place some causes are visible.

class _Observations(logging.Handler):
    PRIORITY = ["SASL_AUTHENTICATION_FAILED", "TLS_HANDSHAKE_FAILED", "BROKER", "CONNECTION_REFUSED", "HOST_UNRESOLVABLE", "TIMEOUT"]

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
                elif _client_timeout(e):
                    self._note("TIMEOUT", "%s: %s (the client's own request timeout)" % (type(e).__name__, e))
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
        elif msg.startswith("Connection attempt to") and "timed out" in msg:
            # 2.0.2: a connection not through TCP connect, TLS handshake and SASL within
            # request_timeout_ms is closed; the caller then sees only NoBrokersAvailable.
            self._note("TIMEOUT", record.getMessage())

    def best(self):
        with self._lock2:
            for code in self.PRIORITY:
                if code in self.found:
                    d = self.found[code]
                    return (d[0], d[1]) if code == "BROKER" else (code, d)
        return None


def _client_timeout(e):
    """kafka-python 3.x closes a connection whose request went unanswered past its deadline with a
    RequestTimedOutError of its own ("Request timed out after N ms"): the protocol's error class,
    but no broker said REQUEST_TIMED_OUT. One the broker sent carries no such message."""
    return isinstance(e, Errors.RequestTimedOutError) and bool(e.args) and str(e.args[0]).startswith("Request timed out after")


def _authenticating(conn_obj):
    state = getattr(conn_obj, "state", None)
    return state is not None and "authenticating" in str(state).lower()


OBS = _Observations()
logging.getLogger("kafka").addHandler(OBS)


# ---------------------------------------------------------------------------------------
# Errors → canonical codes

# kafka-python names a few protocol errors differently from the protocol (Errors.java).
KAFKA_PYTHON_NAME_ALIASES = {"INVALID_TOPIC": "INVALID_TOPIC_EXCEPTION"}


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
    if _client_timeout(exc):
        return "TIMEOUT", None
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
        name = str(exc.message).upper()
        return KAFKA_PYTHON_NAME_ALIASES.get(name, name), None
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


# Errors a send gets while a new topic's leader is being elected (3.x also names the first one NotLeaderOrFollowerError).
_LEADER_MOVING = tuple(c for c in (getattr(Errors, n, None) for n in ("NotLeaderForPartitionError", "NotLeaderOrFollowerError", "LeaderNotAvailableError")) if c)


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
    records = cmd.get("records") or []

    def send_all():
        futures = []
        for r in records:
            kwargs = {"key": encode(r.get("key")), "value": encode(r.get("value"))}
            if r.get("headers"):
                kwargs["headers"] = headers_out(r["headers"])
            if r.get("partition") is not None:
                kwargs["partition"] = int(r["partition"])
            if r.get("timestamp") is not None:
                kwargs["timestamp_ms"] = int(r["timestamp"])
            futures.append(producer.send(topic, **kwargs))
        producer.flush(timeout=SEND_TIMEOUT_S)
        return futures

    try:
        futures = send_all()
        # kafka-python's producer retries nothing by default (retries=0), and a topic created a
        # moment ago (auto-created by this very send) can answer NOT_LEADER_FOR_PARTITION /
        # LEADER_NOT_AVAILABLE, which its docs call retriable. When every record of the send was
        # refused that way, it is sent again after a metadata refresh: twice at most, recorded.
        for attempt in (1, 2):
            errors = [f.exception for f in futures if f.failed()]
            if not errors or len(errors) != len(futures):
                break
            if not all(isinstance(e, _LEADER_MOVING) for e in errors):
                break
            dc.emit({"event": "retry", "id": cid, "what": "%s: every record of the send refused, sent again after a metadata refresh (retry %d of 2)" % (
                "LEADER_NOT_AVAILABLE" if isinstance(errors[0], Errors.LeaderNotAvailableError) else "NOT_LEADER_FOR_PARTITION", attempt)})
            time.sleep(0.5 * attempt)
            producer._metadata.request_update()
            futures = send_all()
        out = []
        # acks=0: the broker answers nothing, so no offset is known (PROTOCOL.md: "-1"). kafka-python
        # 3.x fills RecordMetadata.offset in anyway (0, 0, 1, 2, … seen on gdn), which is not an offset.
        no_answer = str(cmd.get("acks")) == "0"
        for f in futures:
            md = f.get(timeout=SEND_TIMEOUT_S)
            rec = {"topic": md.topic, "partition": md.partition, "offset": "-1" if no_answer else str(md.offset)}
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
    distinct = dc.DistinctRecords()
    try:
        consumer.subscribe(topics=list(cmd["topics"]))
        while len(distinct) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            batch = consumer.poll(timeout_ms=int(min(left, 0.5) * 1000) or 1, max_records=count - len(distinct))
            n = 0
            for _tp, msgs in batch.items():
                for m in msgs:
                    got.append(m)
                    distinct.add(m.topic, m.partition, m.offset)
                    n += 1
            if n:
                dc.emit({"event": "records_consumed", "id": cid, "count": n})
        if len(distinct) < count:
            seen = OBS.best()
            if seen:  # e.g. a refused login while joining: say that, not "timeout"
                raise DriverError(seen[0], "consumed %d of %d records; %s" % (len(distinct), count, seen[1]))
            raise DriverError("TIMEOUT", "consumed %d of %d records within %d ms" % (len(distinct), count, timeout_ms))
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


# ---------------------------------------------------------------------------------------
# Admin operations (PROTOCOL.md, "Admin operations"). 2.0.2 and 3.x answer in different
# shapes (raw response structs / namedtuples vs dicts); _get reads either.

def _get(obj, *names, default=None):
    for n in names:
        if isinstance(obj, dict):
            if n in obj:
                return obj[n]
        elif hasattr(obj, n):
            return getattr(obj, n)
    return default


def _raise_for(code, what):
    if code:
        raise Errors.for_code(code)("%s" % what)


def _with_admin(cmd, fn):
    OBS.reset()
    admin = _open(KafkaAdminClient, _config(cmd["conn"], KafkaAdminClient))
    try:
        return fn(admin)
    except DriverError:
        raise
    except Exception as e:
        raise translate(e)
    finally:
        _close(admin)


def delete_topics(cid, cmd):
    """Deletes the topics; one that does not exist is not an error."""
    names = [str(t) for t in cmd.get("topics") or []]

    def run(admin):
        for name in names:
            try:
                resp = admin.delete_topics([name], timeout_ms=30000)
            except Errors.UnknownTopicOrPartitionError:
                continue
            for entry in getattr(resp, "topic_error_codes", None) or []:
                code = entry[1]
                if code not in (0, Errors.UnknownTopicOrPartitionError.errno):
                    _raise_for(code, "delete_topics %s" % name)
        return {}
    return _with_admin(cmd, run)


def list_topics(cid, cmd):
    return _with_admin(cmd, lambda admin: {"topics": sorted(getattr(admin, ADMIN_LIST_TOPICS)())})


def describe_topics(cid, cmd):
    names = [str(t) for t in cmd.get("topics") or []]

    def run(admin):
        if not names:
            return {"topics": []}
        found = {}
        for t in getattr(admin, ADMIN_DESCRIBE_TOPICS)(names):
            found[_get(t, "name", "topic")] = t
        out = []
        for name in names:
            t = found.get(name)
            if t is None:
                raise Errors.UnknownTopicOrPartitionError("%s: not in the metadata response" % name)
            _raise_for(_get(t, "error_code", default=0), name)
            out.append({"name": name, "partitions": len(_get(t, "partitions", default=None) or [])})
        return {"topics": out}

    return _with_admin(cmd, run)


def _describe_configs_kwargs():
    # 3.x returns only non-default entries unless told otherwise; 2.0.2 has no such filter.
    import inspect
    try:
        params = inspect.signature(getattr(KafkaAdminClient, ADMIN_DESCRIBE_CONFIGS)).parameters
    except (TypeError, ValueError):
        return {}
    return {"config_filter": "all"} if "config_filter" in params else {}


def describe_topic_config(cid, cmd):
    from kafka.admin import ConfigResource, ConfigResourceType
    topic = str(cmd["topic"])

    def run(admin):
        answer = getattr(admin, ADMIN_DESCRIBE_CONFIGS)(
            [ConfigResource(ConfigResourceType.TOPIC, topic)], **_describe_configs_kwargs())
        configs = {}
        if isinstance(answer, dict):
            # 3.x: {"topic": {name: {config: {"value": …, …}}}}
            by_name = (answer.get("topic") or {})
            if topic not in by_name:
                raise Errors.UnknownTopicOrPartitionError("%s: no configuration in the answer" % topic)
            for key, entry in by_name[topic].items():
                configs[key] = _get(entry, "value")
            if not configs and ADMIN_DESCRIBE_TOPICS:
                # 3.x drops the resource's error code (a missing topic reads as no entries);
                # the metadata says whether the topic exists.
                for t in getattr(admin, ADMIN_DESCRIBE_TOPICS)([topic]):
                    _raise_for(_get(t, "error_code", default=0), topic)
        else:
            # 2.0.2: a list of DescribeConfigsResponse structs
            for response in answer:
                for res in response.to_object().get("resources", []):
                    _raise_for(res.get("error_code"), "%s: %s" % (topic, res.get("error_message") or ""))
                    for entry in res.get("config_entries", []):
                        configs[entry["config_names"]] = entry.get("config_value")
        return {"configs": {str(k): (None if v is None else str(v)) for k, v in configs.items()}}

    return _with_admin(cmd, run)


def list_groups(cid, cmd):
    def run(admin):
        groups = set()
        for g in getattr(admin, ADMIN_LIST_GROUPS)():
            # 2.0.2: (group_id, protocol_type) tuples; 3.x: dicts
            groups.add(g[0] if isinstance(g, tuple) else _get(g, "group_id", "group"))
        return {"groups": sorted(groups)}

    return _with_admin(cmd, run)


def describe_group(cid, cmd):
    group_id = str(cmd["group_id"])

    def run(admin):
        answer = getattr(admin, ADMIN_DESCRIBE_GROUPS)([group_id])
        # 2.0.2: [GroupInformation]; 3.x: {group_id: dict}
        d = answer.get(group_id) if isinstance(answer, dict) else next(
            (g for g in answer if _get(g, "group", "group_id") == group_id), None)
        if d is None:
            raise DriverError("UNKNOWN", "describe %s: the group is not in the answer" % group_id)
        _raise_for(_get(d, "error_code", default=0), group_id)
        if _get(d, "error"):
            raise DriverError("UNKNOWN", "describe %s: %s" % (group_id, _get(d, "error")))
        return {"group_id": group_id, "state": str(_get(d, "state", "group_state", default="")),
                "members": len(_get(d, "members", default=None) or [])}

    return _with_admin(cmd, run)


def committed_offsets(cid, cmd):
    group_id = str(cmd["group_id"])

    def run(admin):
        answer = getattr(admin, ADMIN_GROUP_OFFSETS)(group_id) or {}
        if any(isinstance(k, str) for k in answer):
            # 3.x list_group_offsets: {group_id: {TopicPartition: OffsetAndMetadata}};
            # 2.0.2 list_consumer_group_offsets: {TopicPartition: OffsetAndMetadata}
            answer = answer.get(group_id) or {}
        offsets = [{"topic": tp.topic, "partition": tp.partition, "offset": str(oam.offset)}
                   for tp, oam in answer.items() if oam.offset is not None and oam.offset >= 0]
        return {"offsets": sorted(offsets, key=lambda o: (o["topic"], o["partition"]))}

    return _with_admin(cmd, run)


# ---------------------------------------------------------------------------------------
# Consumer sessions (PROTOCOL.md, "Consumer sessions"; driver_common runs them)

def _record_out(m):
    return {"topic": m.topic, "partition": m.partition, "offset": str(m.offset),
            "key": decode(m.key), "value": decode(m.value), "headers": headers_in(m.headers),
            "timestamp": str(m.timestamp)}


def _offset_and_metadata(offset):
    from kafka.structs import OffsetAndMetadata
    # 2.0.2: (offset, metadata); 3.x adds leader_epoch (-1: unknown).
    known = {"offset": offset, "metadata": "", "leader_epoch": -1}
    return OffsetAndMetadata(**{f: known.get(f) for f in OffsetAndMetadata._fields})


class _Member:
    """One KafkaConsumer in a session; every method runs on the session's own thread."""

    def __init__(self, consumer):
        self.consumer = consumer

    def poll(self, timeout_ms):
        try:
            batch = self.consumer.poll(timeout_ms=timeout_ms)
        except Exception as e:
            raise translate(e)
        return [_record_out(m) for msgs in batch.values() for m in msgs]

    def assignment(self):
        return [(tp.topic, tp.partition) for tp in self.consumer.assignment()]

    def commit(self, offsets):
        from kafka.structs import TopicPartition
        try:
            self.consumer.commit(offsets={TopicPartition(t, p): _offset_and_metadata(o) for (t, p), o in offsets.items()})
        except Exception as e:
            raise translate(e)

    def seek(self, topic, partition, offset):
        from kafka.structs import TopicPartition
        try:
            self.consumer.seek(TopicPartition(topic, partition), offset)
        except Exception as e:
            raise translate(e)

    def close(self):
        try:
            self.consumer.close(autocommit=False)
        except Exception as e:
            raise translate(e)
        finally:
            dc.untrack(self.consumer)


def consumer_open(cid, cmd):
    OBS.reset()
    extra = {
        "group_id": cmd["group_id"],
        "auto_offset_reset": "earliest" if cmd.get("from_beginning") else "latest",
        "enable_auto_commit": False,
        "session_timeout_ms": SESSION_TIMEOUT_MS,
        "heartbeat_interval_ms": HEARTBEAT_INTERVAL_MS,
        "max_poll_interval_ms": MAX_POLL_INTERVAL_MS,
    }
    consumer = _open(KafkaConsumer, _config(cmd["conn"], KafkaConsumer, extra))
    try:
        consumer.subscribe(topics=list(cmd["topics"]))
    except Exception as e:
        _close(consumer, lambda c: c.close(autocommit=False))
        raise translate(e)
    # The session closes it (consumer_close, shutdown); not the generic exit path as well.
    dc.untrack(consumer)
    return {"handle": dc.open_session(_Member(consumer), "kafka-python")}


# ---------------------------------------------------------------------------------------
# Bench operations (PROTOCOL.md "Bench operations"): the records are generated here.

def _timeout(msg):
    return DriverError("TIMEOUT", msg)


def _perf_producer(cmd, extra=None):
    cfg = {"acks": _ACKS.get(str(cmd.get("acks") or "all"), "all"), "max_block_ms": MAX_BLOCK_MS}
    cfg.update(extra or {})
    return _open(KafkaProducer, _config(cmd["conn"], KafkaProducer, cfg))


def _perf_consumer(cmd):
    return _open(KafkaConsumer, _config(cmd["conn"], KafkaConsumer, {
        "group_id": cmd["group_id"], "auto_offset_reset": "earliest", "enable_auto_commit": False,
        "session_timeout_ms": 10000, "heartbeat_interval_ms": 3000,
    }))


def _values(consumer):
    def poll(seconds):
        batch = consumer.poll(timeout_ms=int(seconds * 1000), max_records=500)
        return [m.value for msgs in batch.values() for m in msgs]
    return poll


def perf_produce(cid, cmd):
    OBS.reset()
    producer = _perf_producer(cmd)
    topic = cmd["topic"]
    failed = []

    def on_error(e):
        failed.append(e)

    warmup = (lambda v: producer.send(topic, value=v).get(timeout=SEND_TIMEOUT_S)) if cmd.get("warmup") else None
    try:
        return perf.run_produce(lambda v: producer.send(topic, value=v).add_errback(on_error),
                                lambda: producer.flush(timeout=SEND_TIMEOUT_S * 10),
                                lambda: (len(failed), failed[0] if failed else None),
                                int(cmd.get("num_records") or 100000), int(cmd.get("record_size") or 100), warmup)
    except Exception as e:
        raise translate(e)
    finally:
        _close(producer, lambda p: p.close(timeout=5))


def perf_consume(cid, cmd):
    OBS.reset()
    consumer = _perf_consumer(cmd)
    assignment = perf.Assignment()

    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            pass

        def on_partitions_assigned(self, assigned):
            assignment.assigned()

    try:
        consumer.subscribe(topics=[cmd["topic"]], listener=Listener())
        return perf.run_consume(_values(consumer), int(cmd["num_records"]), int(cmd.get("timeout_ms") or 120000), _timeout, assignment)
    except Exception as e:
        raise translate(e)
    finally:
        _close(consumer, lambda c: c.close(autocommit=False))


def perf_latency(cid, cmd):
    OBS.reset()
    topic = cmd["topic"]
    consumer = _perf_consumer(cmd)
    producer = None
    try:
        consumer.subscribe(topics=[topic])
        producer = _perf_producer(cmd, {"linger_ms": 0})
        return perf.run_latency(
            lambda: perf.wait_until(lambda: bool(consumer.assignment()), lambda: consumer.poll(timeout_ms=100), 30,
                                    "no partition assigned to the latency consumer", _timeout),
            lambda v: producer.send(topic, value=v), lambda: producer.flush(timeout=SEND_TIMEOUT_S * 10),
            _values(consumer), float(cmd["rate"]), int(cmd["duration_ms"]), int(cmd.get("record_size") or 100), _timeout)
    except Exception as e:
        raise translate(e)
    finally:
        if producer is not None:
            _close(producer, lambda p: p.close(timeout=5))
        _close(consumer, lambda c: c.close(autocommit=False))


if __name__ == "__main__":
    handlers = {
        "perf_produce": perf_produce,
        "perf_consume": perf_consume,
        "perf_latency": perf_latency,
        "check_login": check_login,
        "create_topics": create_topics,
        "delete_topics": delete_topics,
        "produce": produce,
        "consume": consume,
    }
    for op, handler, present in (("list_topics", list_topics, ADMIN_LIST_TOPICS),
                                 ("describe_topics", describe_topics, ADMIN_DESCRIBE_TOPICS),
                                 ("describe_topic_config", describe_topic_config, ADMIN_DESCRIBE_CONFIGS),
                                 ("list_groups", list_groups, ADMIN_LIST_GROUPS and ADMIN_DESCRIBE_GROUPS),
                                 ("describe_group", describe_group, ADMIN_LIST_GROUPS and ADMIN_DESCRIBE_GROUPS),
                                 ("committed_offsets", committed_offsets, ADMIN_GROUP_OFFSETS),
                                 ("consumer_open", consumer_open, HAS_SESSIONS)):
        if present:
            handlers[op] = handler
    if HAS_SESSIONS:
        handlers.update(dc.session_handlers(seek=HAS_SEEK))
    dc.run("kafka-python", VERSION, CAPABILITIES, handlers, {"python": sys.version.split()[0]})

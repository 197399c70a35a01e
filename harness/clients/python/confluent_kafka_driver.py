"""PROTOCOL.md driver for confluent-kafka (Python over librdkafka): Producer, Consumer and
AdminClient configured with security.protocol, sasl.mechanisms=PLAIN, sasl.username/password,
ssl.ca.location, enable.ssl.certificate.verification and ssl.endpoint.identification.algorithm.

librdkafka never gives up on a broker by itself: a refused login or an untrusted certificate
is reported through `error_cb` (served by poll()) while it keeps reconnecting, and the API
call the application made eventually fails with a generic _TRANSPORT / _TIMED_OUT. The
driver therefore polls in short slices and stops as soon as error_cb reports _AUTHENTICATION
or _SSL, so those failures come back in well under a second with their real cause.
"""

import concurrent.futures
import logging
import sys
import threading
import time

import confluent_kafka
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

import driver_common as dc
import perf_common as perf
from driver_common import DriverError, decode, encode, headers_in, headers_out



def _version_string(v):
    # version() is a (str, int) tuple in older releases and a plain str in 2.16.
    return v[0] if isinstance(v, tuple) else str(v)


VERSION = getattr(confluent_kafka, "__version__", None) or _version_string(confluent_kafka.version())
LIBRDKAFKA = _version_string(confluent_kafka.libversion())
# librdkafka (bundled in the wheel) has every codec; acks, idempotence and commit styles too.
CAPABILITIES = ["headers", "admin.createTopics", "admin.deleteTopics", "groups.commit", "produce.acks", "produce.idempotent",
                "compression.gzip", "compression.snappy", "compression.lz4", "compression.zstd",
                "timestamps", "commit.async", "commit.auto"]


def _has(cls, *names):
    return all(callable(getattr(cls, n, None)) for n in names)


# Admin calls and session features, as this build of the library has them.
for _cap, _present in (("admin.listTopics", _has(AdminClient, "list_topics")),
                       ("admin.describeTopics", _has(AdminClient, "describe_topics") and hasattr(confluent_kafka, "TopicCollection")),
                       ("admin.describeConfigs", _has(AdminClient, "describe_configs")),
                       ("admin.groups", _has(AdminClient, "list_consumer_groups", "describe_consumer_groups")),
                       ("admin.committedOffsets", _has(AdminClient, "list_consumer_group_offsets")
                        and hasattr(confluent_kafka, "ConsumerGroupTopicPartitions")),
                       ("groups.session", _has(Consumer, "subscribe", "consume", "assignment", "commit", "close")),
                       ("consumer.seek", _has(Consumer, "subscribe", "consume", "assignment", "commit", "close", "seek")),
                       ("transactions", _has(Producer, "init_transactions", "begin_transaction", "send_offsets_to_transaction",
                                             "commit_transaction", "abort_transaction")
                        and _has(Consumer, "consumer_group_metadata"))):
    if _present:
        CAPABILITIES.append(_cap)

CONNECT_TIMEOUT_S = 15
REQUEST_TIMEOUT_S = 15
MESSAGE_TIMEOUT_MS = 30000
COMMIT_TIMEOUT_S = 10
# Group timeouts of a consumer session (see the kafka-python driver).
SESSION_TIMEOUT_MS = 10000
HEARTBEAT_INTERVAL_MS = 1000
MAX_POLL_INTERVAL_MS = 30000
# librdkafka's consume() waits for a full batch or the timeout; a session poll asks in
# slices so that it returns soon after the first records arrive.
POLL_SLICE_S = 0.1
POLL_BATCH = 500

# Kafka protocol error codes → the protocol's own names (librdkafka abbreviates some, e.g.
# UNKNOWN_TOPIC_OR_PART); codes not listed keep librdkafka's name.
KAFKA_NAMES = {
    1: "OFFSET_OUT_OF_RANGE", 2: "CORRUPT_MESSAGE", 3: "UNKNOWN_TOPIC_OR_PARTITION", 4: "INVALID_FETCH_SIZE",
    5: "LEADER_NOT_AVAILABLE", 6: "NOT_LEADER_OR_FOLLOWER", 7: "REQUEST_TIMED_OUT", 8: "BROKER_NOT_AVAILABLE",
    9: "REPLICA_NOT_AVAILABLE",
    # errno 10 (MESSAGE_TOO_LARGE), like kafka-python's MessageSizeTooLargeError: one code for
    # "record too large" whether the client or the broker refused it.
    10: "RECORD_TOO_LARGE",
    12: "OFFSET_METADATA_TOO_LARGE", 13: "NETWORK_EXCEPTION", 14: "COORDINATOR_LOAD_IN_PROGRESS",
    15: "COORDINATOR_NOT_AVAILABLE", 16: "NOT_COORDINATOR", 17: "INVALID_TOPIC_EXCEPTION", 18: "RECORD_LIST_TOO_LARGE",
    19: "NOT_ENOUGH_REPLICAS", 20: "NOT_ENOUGH_REPLICAS_AFTER_APPEND", 21: "INVALID_REQUIRED_ACKS",
    22: "ILLEGAL_GENERATION", 23: "INCONSISTENT_GROUP_PROTOCOL", 24: "INVALID_GROUP_ID", 25: "UNKNOWN_MEMBER_ID",
    26: "INVALID_SESSION_TIMEOUT", 27: "REBALANCE_IN_PROGRESS", 28: "INVALID_COMMIT_OFFSET_SIZE",
    29: "TOPIC_AUTHORIZATION_FAILED", 30: "GROUP_AUTHORIZATION_FAILED", 31: "CLUSTER_AUTHORIZATION_FAILED",
    32: "INVALID_TIMESTAMP", 33: "UNSUPPORTED_SASL_MECHANISM", 34: "ILLEGAL_SASL_STATE", 35: "UNSUPPORTED_VERSION",
    36: "TOPIC_ALREADY_EXISTS", 37: "INVALID_PARTITIONS", 38: "INVALID_REPLICATION_FACTOR",
    39: "INVALID_REPLICA_ASSIGNMENT", 40: "INVALID_CONFIG", 41: "NOT_CONTROLLER", 42: "INVALID_REQUEST",
    43: "UNSUPPORTED_FOR_MESSAGE_FORMAT", 44: "POLICY_VIOLATION", 45: "OUT_OF_ORDER_SEQUENCE_NUMBER",
    46: "DUPLICATE_SEQUENCE_NUMBER", 47: "INVALID_PRODUCER_EPOCH", 48: "INVALID_TXN_STATE",
    49: "INVALID_PRODUCER_ID_MAPPING", 50: "INVALID_TRANSACTION_TIMEOUT", 51: "CONCURRENT_TRANSACTIONS",
    52: "TRANSACTION_COORDINATOR_FENCED", 53: "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", 54: "SECURITY_DISABLED",
    55: "OPERATION_NOT_ATTEMPTED", 56: "KAFKA_STORAGE_ERROR", 57: "LOG_DIR_NOT_FOUND",
    58: "SASL_AUTHENTICATION_FAILED", 59: "UNKNOWN_PRODUCER_ID", 90: "PRODUCER_FENCED",
}

TIMEOUT_NAMES = {"_TIMED_OUT", "_MSG_TIMED_OUT", "_TIMED_OUT_QUEUE"}
VAGUE_NAMES = {"_TRANSPORT", "_ALL_BROKERS_DOWN"} | TIMEOUT_NAMES

RDKAFKA_LOG = logging.getLogger("librdkafka")


def _local_code(err):
    """Canonical code of one librdkafka error, from its name and (for _TRANSPORT) its text."""
    name = err.name()
    text = err.str() or ""
    if name == "_AUTHENTICATION":
        # librdkafka reports a refused SaslHandshake (the mechanism) under _AUTHENTICATION too.
        return "UNSUPPORTED_SASL_MECHANISM" if "Unsupported SASL mechanism" in text else "SASL_AUTHENTICATION_FAILED"
    if name == "_SSL" or (name == "_TRANSPORT" and "SSL" in text):
        return "TLS_HANDSHAKE_FAILED"
    if name == "_RESOLVE" or "Failed to resolve" in text:
        return "HOST_UNRESOLVABLE"
    if "Connection refused" in text:
        return "CONNECTION_REFUSED"
    if name == "_TRANSPORT":
        # "Broker transport failure": the peer closed or broke the connection.
        return "CONNECTION_CLOSED"
    if name in TIMEOUT_NAMES:
        return "TIMEOUT"
    if name == "MSG_SIZE_TOO_LARGE":
        return "RECORD_TOO_LARGE"
    if name == "_FENCED":
        # librdkafka's fatal "producer fenced by a newer instance" (PRODUCER_FENCED or INVALID_PRODUCER_EPOCH from the broker).
        return "PRODUCER_FENCED"
    if err.code() > 0:
        return KAFKA_NAMES.get(err.code(), name)
    return None


class _Watcher:
    """Collects what error_cb reports; a refused login or a failed TLS handshake ends the wait."""

    DECISIVE = ("SASL_AUTHENTICATION_FAILED", "UNSUPPORTED_SASL_MECHANISM", "TLS_HANDSHAKE_FAILED")

    def __init__(self):
        self._lock = threading.Lock()
        self.seen = []

    def __call__(self, err):
        with self._lock:
            self.seen.append(err)

    def decisive(self):
        with self._lock:
            seen = list(self.seen)
        for want in self.DECISIVE:
            for e in seen:
                if _local_code(e) == want:
                    return want, e
        return None

    def best(self):
        found = self.decisive()
        if found:
            return found
        with self._lock:
            seen = list(self.seen)
        for e in reversed(seen):
            code = _local_code(e)
            if code:
                return code, e
        return None

    def check(self):
        found = self.decisive()
        if found:
            raise DriverError(found[0], found[1].str(), "KafkaError(%s)" % found[1].name())


def translate(exc, watcher=None):
    if isinstance(exc, DriverError):
        return exc
    err = exc.args[0] if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError) else exc
    if isinstance(err, KafkaError):
        name = err.name()
        code = _local_code(err)
        msg = err.str()
        if name in VAGUE_NAMES and watcher is not None:
            seen = watcher.best()
            if seen and seen[0] not in ("TIMEOUT",):
                code = seen[0]
                msg = "%s (cause reported by librdkafka's error_cb: %s %s)" % (msg, seen[1].name(), seen[1].str())
        return DriverError(code or "UNKNOWN", msg, "KafkaError(%s)" % name)
    return DriverError("UNKNOWN", str(exc), type(exc).__name__)


def _config(conn, watcher, extra=None):
    cfg = {
        "bootstrap.servers": conn["bootstrap"],
        "security.protocol": conn["security_protocol"],
        "sasl.mechanisms": conn.get("sasl_mechanism", "PLAIN"),
        "sasl.username": conn["username"],
        "sasl.password": conn["password"],
        "client.id": "kop-conformance-confluent-kafka",
        "socket.timeout.ms": REQUEST_TIMEOUT_S * 1000,
        "error_cb": watcher,
        "logger": RDKAFKA_LOG,
    }
    ssl_conf = conn.get("ssl")
    if ssl_conf is not None:
        if not ssl_conf.get("verify", True):
            cfg["enable.ssl.certificate.verification"] = False
            cfg["ssl.endpoint.identification.algorithm"] = "none"
        else:
            # Without a CA file, let librdkafka find the system store.
            cfg["ssl.ca.location"] = ssl_conf.get("ca_pem_path") or "probe"
            cfg["ssl.endpoint.identification.algorithm"] = "https" if ssl_conf.get("hostname_verification", True) else "none"
    cfg.update(extra or {})
    return cfg


def _new(cls, cfg):
    try:
        return cls(cfg)
    except KafkaException as e:
        err = e.args[0] if e.args else None
        if isinstance(err, KafkaError) and err.name() in ("_INVALID_ARG", "_NOT_IMPLEMENTED"):
            raise DriverError("UNSUPPORTED_SETTING", err.str(), "KafkaError(%s)" % err.name())
        raise translate(e)


def _await_metadata(client, watcher, deadline):
    """A metadata round trip, failing fast on a refused login or TLS handshake."""
    last = None
    while time.monotonic() < deadline:
        watcher.check()
        try:
            return client.list_topics(timeout=min(1.0, max(0.1, deadline - time.monotonic())))
        except KafkaException as e:
            last = e
        client.poll(0)  # serves error_cb
    watcher.check()
    if last is not None:
        raise translate(last, watcher)
    raise DriverError("TIMEOUT", "no metadata within %d s" % CONNECT_TIMEOUT_S)


def check_login(cid, cmd):
    watcher = _Watcher()
    admin = _new(AdminClient, _config(cmd["conn"], watcher))
    md = _await_metadata(admin, watcher, time.monotonic() + CONNECT_TIMEOUT_S)
    return {"brokers": len(md.brokers)}


def create_topics(cid, cmd):
    watcher = _Watcher()
    admin = _new(AdminClient, _config(cmd["conn"], watcher))
    _await_metadata(admin, watcher, time.monotonic() + CONNECT_TIMEOUT_S)
    topics = [NewTopic(t["name"], num_partitions=int(t.get("partitions") or 1), replication_factor=1)
              for t in cmd.get("topics") or []]
    if not topics:
        return {}
    futures = admin.create_topics(topics, request_timeout=REQUEST_TIMEOUT_S, operation_timeout=REQUEST_TIMEOUT_S)
    for name, fut in futures.items():
        try:
            fut.result(timeout=REQUEST_TIMEOUT_S + 5)
        except KafkaException as e:
            err = e.args[0] if e.args else None
            if isinstance(err, KafkaError) and err.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                continue
            raise translate(e, watcher)
        except Exception as e:  # concurrent.futures.TimeoutError
            raise DriverError("TIMEOUT", "create_topics %s: %s" % (name, e or "no answer"), type(e).__name__)
    return {}


_ACKS = {"0": "0", "1": "1", "all": "all", "-1": "all"}


def produce(cid, cmd):
    watcher = _Watcher()
    extra = {"message.timeout.ms": MESSAGE_TIMEOUT_MS}
    if cmd.get("acks") is not None:
        extra["acks"] = _ACKS.get(str(cmd["acks"]), str(cmd["acks"]))
    if cmd.get("compression"):
        extra["compression.type"] = cmd["compression"]
    if cmd.get("idempotence") is not None:
        extra["enable.idempotence"] = bool(cmd["idempotence"])
    producer = _new(Producer, _config(cmd["conn"], watcher, extra))
    dc.track(producer, lambda p: p.purge())
    topic = cmd["topic"]
    records = cmd.get("records") or []
    results = [None] * len(records)
    failures = []

    def on_delivery(index):
        def cb(err, msg):
            if err is not None:
                failures.append(err)
            else:
                results[index] = {"topic": msg.topic(), "partition": msg.partition(), "offset": str(msg.offset())}
                dc.emit({"event": "producer_send_success", "id": cid, **results[index]})
        return cb

    try:
        for i, r in enumerate(records):
            kwargs = {"key": encode(r.get("key")), "value": encode(r.get("value")), "on_delivery": on_delivery(i)}
            if r.get("headers"):
                kwargs["headers"] = headers_out(r["headers"])
            if r.get("partition") is not None:
                kwargs["partition"] = int(r["partition"])
            if r.get("timestamp") is not None:
                kwargs["timestamp"] = int(r["timestamp"])
            producer.produce(topic, **kwargs)
        deadline = time.monotonic() + MESSAGE_TIMEOUT_MS / 1000.0 + 5
        while any(x is None for x in results) and not failures and time.monotonic() < deadline:
            producer.poll(0.2)
            watcher.check()
        if failures:
            raise translate(KafkaException(failures[0]), watcher)
        if any(x is None for x in results):
            raise DriverError("TIMEOUT", "%d of %d records unacknowledged" % (sum(x is None for x in results), len(results)))
        return {"records": results}
    except KafkaException as e:
        raise translate(e, watcher)
    finally:
        try:
            producer.purge()
            producer.flush(0)
        except Exception:
            pass
        dc.untrack(producer)


def consume(cid, cmd):
    mode = cmd.get("commit") or "sync"
    if mode not in ("sync", "async", "auto", "none"):
        raise DriverError("UNSUPPORTED_SETTING", "commit mode %r" % mode)
    watcher = _Watcher()
    committed = threading.Event()
    commit_result = {}

    def on_commit(err, partitions):
        commit_result["err"] = err
        commit_result["partitions"] = partitions
        committed.set()

    extra = {
        "group.id": cmd["group_id"],
        "auto.offset.reset": "earliest" if cmd.get("from_beginning") else "latest",
        "enable.auto.commit": mode == "auto",
        "session.timeout.ms": 10000,
        "on_commit": on_commit,
    }
    extra.update(_isolation(cmd))
    consumer = _new(Consumer, _config(cmd["conn"], watcher, extra))
    dc.track(consumer, lambda c: c.close())
    count = int(cmd["count"])
    timeout_ms = int(cmd["timeout_ms"])
    deadline = time.monotonic() + timeout_ms / 1000.0
    got = []
    distinct = dc.DistinctRecords()
    try:
        consumer.subscribe(list(cmd["topics"]))
        while len(distinct) < count and time.monotonic() < deadline:
            msg = consumer.poll(min(0.5, max(0.01, deadline - time.monotonic())))
            watcher.check()
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise translate(KafkaException(msg.error()), watcher)
            got.append(msg)
            distinct.add(msg.topic(), msg.partition(), msg.offset())
            dc.emit({"event": "records_consumed", "id": cid, "count": 1})
        if len(distinct) < count:
            seen = watcher.best()
            if seen and seen[0] != "TIMEOUT":
                raise DriverError(seen[0], "consumed %d of %d records; librdkafka reported %s %s"
                                  % (len(distinct), count, seen[1].name(), seen[1].str()), "KafkaError(%s)" % seen[1].name())
            raise DriverError("TIMEOUT", "consumed %d of %d records within %d ms" % (len(distinct), count, timeout_ms))
        _commit(cid, consumer, mode, got, committed, commit_result)
        return {"records": [{
            "topic": m.topic(), "partition": m.partition(), "offset": str(m.offset()),
            "key": decode(m.key()), "value": decode(m.value()), "headers": headers_in(m.headers()),
            "timestamp": str(m.timestamp()[1]),
        } for m in got]}
    except KafkaException as e:
        raise translate(e, watcher)
    finally:
        dc.close_quietly(consumer, lambda c: c.close())


def _commit(cid, consumer, mode, got, committed, commit_result):
    if mode in ("none", "auto") or not got:
        return
    offsets = {}
    for m in got:
        key = (m.topic(), m.partition())
        offsets[key] = max(offsets.get(key, -1), m.offset() + 1)
    # Explicit offsets: exactly what was handed back, never what poll() fetched after it.
    explicit = [TopicPartition(t, p, o) for (t, p), o in sorted(offsets.items())]
    if mode == "sync":
        consumer.commit(offsets=explicit, asynchronous=False)
    else:
        consumer.commit(offsets=explicit, asynchronous=True)
        end = time.monotonic() + COMMIT_TIMEOUT_S
        while not committed.is_set() and time.monotonic() < end:
            consumer.poll(0.1)  # serves on_commit; a record returned here is not ours to commit
        if not committed.is_set():
            raise DriverError("TIMEOUT", "async commit not acknowledged within %d s" % COMMIT_TIMEOUT_S)
        if commit_result.get("err") is not None:
            raise KafkaException(commit_result["err"])
    dc.emit_committed(cid, offsets)


# ---------------------------------------------------------------------------------------
# Admin operations (PROTOCOL.md, "Admin operations")

def _admin(cmd):
    """An AdminClient that has made one metadata round trip (a refused login fails here, fast)."""
    watcher = _Watcher()
    admin = _new(AdminClient, _config(cmd["conn"], watcher))
    md = _await_metadata(admin, watcher, time.monotonic() + CONNECT_TIMEOUT_S)
    return admin, watcher, md


def _result(future, what, watcher):
    try:
        return future.result(timeout=REQUEST_TIMEOUT_S + 5)
    except KafkaException as e:
        raise translate(e, watcher)
    except concurrent.futures.TimeoutError:
        raise DriverError("TIMEOUT", "%s: no answer within %d s" % (what, REQUEST_TIMEOUT_S + 5), "TimeoutError")


def delete_topics(cid, cmd):
    """Deletes the topics; one that does not exist is not an error."""
    names = [str(t) for t in cmd.get("topics") or []]
    if not names:
        return {}
    admin, watcher, _md = _admin(cmd)
    futures = admin.delete_topics(names, operation_timeout=REQUEST_TIMEOUT_S, request_timeout=REQUEST_TIMEOUT_S)
    for name in names:
        try:
            _result(futures[name], "delete_topics %s" % name, watcher)
        except DriverError as e:
            if e.code != "UNKNOWN_TOPIC_OR_PARTITION":
                raise
    return {}


def list_topics(cid, cmd):
    _admin_client, _watcher, md = _admin(cmd)
    return {"topics": sorted(name for name, t in md.topics.items() if t.error is None)}


def describe_topics(cid, cmd):
    from confluent_kafka import TopicCollection
    names = [str(t) for t in cmd.get("topics") or []]
    if not names:
        return {"topics": []}
    admin, watcher, _md = _admin(cmd)
    futures = admin.describe_topics(TopicCollection(names), request_timeout=REQUEST_TIMEOUT_S)
    out = []
    for name in names:
        d = _result(futures[name], "describe_topics %s" % name, watcher)
        out.append({"name": name, "partitions": len(d.partitions)})
    return {"topics": out}


def describe_topic_config(cid, cmd):
    from confluent_kafka.admin import ConfigResource, ResourceType
    topic = str(cmd["topic"])
    admin, watcher, _md = _admin(cmd)
    resource = ConfigResource(ResourceType.TOPIC, topic)
    futures = admin.describe_configs([resource], request_timeout=REQUEST_TIMEOUT_S)
    (future,) = futures.values()
    entries = _result(future, "describe_configs %s" % topic, watcher)
    # ConfigEntry.value is None where the broker hides it (sensitive entries).
    return {"configs": {name: (None if e.value is None else str(e.value)) for name, e in entries.items()}}


def list_groups(cid, cmd):
    admin, watcher, _md = _admin(cmd)
    res = _result(admin.list_consumer_groups(request_timeout=REQUEST_TIMEOUT_S), "list_consumer_groups", watcher)
    errors = list(getattr(res, "errors", None) or [])
    if errors:
        first = errors[0]
        raise translate(first if isinstance(first, KafkaException) else KafkaException(first), watcher)
    return {"groups": sorted(set(g.group_id for g in res.valid or []))}


# librdkafka parses the broker's state string into ConsumerGroupState; these are the
# broker's own spellings (the enum's names differ, e.g. PREPARING_REBALANCING).
GROUP_STATES = {"UNKNOWN": "Unknown", "PREPARING_REBALANCING": "PreparingRebalance",
                "COMPLETING_REBALANCING": "CompletingRebalance", "STABLE": "Stable", "DEAD": "Dead",
                "EMPTY": "Empty", "ASSIGNING": "Assigning", "RECONCILING": "Reconciling"}


def _state_name(state):
    name = getattr(state, "name", None) or str(state)
    return GROUP_STATES.get(name) or "".join(w.capitalize() for w in name.split("_"))


def describe_group(cid, cmd):
    group_id = str(cmd["group_id"])
    admin, watcher, _md = _admin(cmd)
    futures = admin.describe_consumer_groups([group_id], request_timeout=REQUEST_TIMEOUT_S)
    d = _result(futures[group_id], "describe_consumer_groups %s" % group_id, watcher)
    return {"group_id": group_id, "state": _state_name(d.state), "members": len(d.members or [])}


def committed_offsets(cid, cmd):
    from confluent_kafka import ConsumerGroupTopicPartitions
    group_id = str(cmd["group_id"])
    admin, watcher, _md = _admin(cmd)
    futures = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group_id)],
                                                request_timeout=REQUEST_TIMEOUT_S)
    res = _result(futures[group_id], "list_consumer_group_offsets %s" % group_id, watcher)
    out = []
    for tp in res.topic_partitions or []:
        if tp.error is not None:
            raise translate(KafkaException(tp.error), watcher)
        if tp.offset >= 0:  # OFFSET_INVALID (-1001): no commit for this partition
            out.append({"topic": tp.topic, "partition": tp.partition, "offset": str(tp.offset)})
    return {"offsets": sorted(out, key=lambda o: (o["topic"], o["partition"]))}


# ---------------------------------------------------------------------------------------
# Consumer sessions (PROTOCOL.md, "Consumer sessions"; driver_common runs them)

def _record_out(m):
    return {"topic": m.topic(), "partition": m.partition(), "offset": str(m.offset()),
            "key": decode(m.key()), "value": decode(m.value()), "headers": headers_in(m.headers()),
            "timestamp": str(m.timestamp()[1])}


class _Member:
    """One Consumer in a session; every method runs on the session's own thread. librdkafka
    does the group work on its own threads, so poll() here is bounded by its timeout."""

    def __init__(self, consumer, watcher):
        self.consumer = consumer
        self.watcher = watcher

    def poll(self, timeout_ms):
        deadline = time.monotonic() + timeout_ms / 1000.0
        out = []
        try:
            while True:
                left = deadline - time.monotonic()
                batch = self.consumer.consume(num_messages=POLL_BATCH, timeout=max(0.0, min(POLL_SLICE_S, left)))
                self.watcher.check()
                for m in batch:
                    err = m.error()
                    if err is None:
                        out.append(_record_out(m))
                    elif err.code() == KafkaError._MAX_POLL_EXCEEDED:
                        # The parent did not poll within max.poll.interval.ms: librdkafka left
                        # the group and rejoins on this poll (kafka-python does the same silently).
                        dc.log("session poll: %s; the member rejoins" % err.str())
                    elif err.code() != KafkaError._PARTITION_EOF:
                        raise translate(KafkaException(err), self.watcher)
                if out or left <= 0:
                    return out
        except KafkaException as e:
            raise translate(e, self.watcher)

    def assignment(self):
        try:
            return [(tp.topic, tp.partition) for tp in self.consumer.assignment()]
        except KafkaException as e:
            raise translate(e, self.watcher)

    def commit(self, offsets):
        explicit = [TopicPartition(t, p, o) for (t, p), o in sorted(offsets.items())]
        try:
            done = self.consumer.commit(offsets=explicit, asynchronous=False)
        except KafkaException as e:
            raise translate(e, self.watcher)
        for tp in done or []:
            if tp.error is not None:
                raise translate(KafkaException(tp.error), self.watcher)

    def seek(self, topic, partition, offset):
        try:
            self.consumer.seek(TopicPartition(topic, partition, offset))
        except KafkaException as e:
            raise translate(e, self.watcher)

    def close(self):
        try:
            self.consumer.close()  # leaves the group; nothing to commit (auto-commit is off)
        except KafkaException as e:
            raise translate(e, self.watcher)


def consumer_open(cid, cmd):
    watcher = _Watcher()
    extra = {
        "group.id": cmd["group_id"],
        "auto.offset.reset": "earliest" if cmd.get("from_beginning") else "latest",
        "enable.auto.commit": False,
        "session.timeout.ms": SESSION_TIMEOUT_MS,
        "heartbeat.interval.ms": HEARTBEAT_INTERVAL_MS,
        "max.poll.interval.ms": MAX_POLL_INTERVAL_MS,
    }
    extra.update(_isolation(cmd))
    consumer = _new(Consumer, _config(cmd["conn"], watcher, extra))
    try:
        consumer.subscribe(list(cmd["topics"]))
    except KafkaException as e:
        dc.close_quietly(consumer, lambda c: c.close())
        raise translate(e, watcher)
    return {"handle": dc.open_session(_Member(consumer, watcher), "confluent")}


# ---------------------------------------------------------------------------------------
# Transactions (PROTOCOL.md, "Transactions")

TXN_TIMEOUT_S = 25


def _isolation(cmd):
    level = cmd.get("isolation_level")
    if level is None:
        return {}
    if level not in ("read_committed", "read_uncommitted"):
        raise DriverError("UNSUPPORTED_SETTING", "isolation_level %r" % (level,))
    return {"isolation.level": level}


_txn_producers = {}
_txn_seq = [0]


def _txn(cmd):
    entry = _txn_producers.get(cmd.get("handle"))
    if entry is None:
        raise DriverError("UNKNOWN", "no open transactional producer %r" % (cmd.get("handle"),))
    return entry


def _txn_call(entry, what, fn):
    producer, watcher = entry
    try:
        return fn(producer)
    except KafkaException as e:
        raise translate(e, watcher)


def _close_txn_producer(producer):
    producer.purge()
    producer.flush(1)


def txn_producer_open(cid, cmd):
    watcher = _Watcher()
    extra = {"transactional.id": str(cmd["transactional_id"]), "enable.idempotence": True, "acks": "all",
             "message.timeout.ms": MESSAGE_TIMEOUT_MS, "transaction.timeout.ms": 60000}
    producer = _new(Producer, _config(cmd["conn"], watcher, extra))
    try:
        producer.init_transactions(TXN_TIMEOUT_S)
    except KafkaException as e:
        raise translate(e, watcher)
    _txn_seq[0] += 1
    handle = "confluent-txn-%d" % _txn_seq[0]
    _txn_producers[handle] = (producer, watcher)
    dc.track(producer, _close_txn_producer)
    return {"handle": handle}


def txn_begin(cid, cmd):
    _txn_call(_txn(cmd), "begin_transaction", lambda p: p.begin_transaction())
    return {}


def txn_send(cid, cmd):
    producer, watcher = _txn(cmd)
    topic = cmd["topic"]
    records = cmd.get("records") or []
    results = [None] * len(records)
    failures = []

    def on_delivery(index):
        def cb(err, msg):
            if err is not None:
                failures.append(err)
            else:
                results[index] = {"topic": msg.topic(), "partition": msg.partition(), "offset": str(msg.offset())}
                dc.emit({"event": "producer_send_success", "id": cid, **results[index]})
        return cb

    try:
        for i, r in enumerate(records):
            kwargs = {"key": encode(r.get("key")), "value": encode(r.get("value")), "on_delivery": on_delivery(i)}
            if r.get("headers"):
                kwargs["headers"] = headers_out(r["headers"])
            if r.get("partition") is not None:
                kwargs["partition"] = int(r["partition"])
            producer.produce(topic, **kwargs)
        deadline = time.monotonic() + MESSAGE_TIMEOUT_MS / 1000.0 + 5
        while any(x is None for x in results) and not failures and time.monotonic() < deadline:
            producer.poll(0.2)
            watcher.check()
        if failures:
            raise translate(KafkaException(failures[0]), watcher)
        if any(x is None for x in results):
            raise DriverError("TIMEOUT", "%d of %d records unacknowledged" % (sum(x is None for x in results), len(results)))
        return {"records": results}
    except KafkaException as e:
        raise translate(e, watcher)


def txn_send_offsets(cid, cmd):
    entry = _txn(cmd)
    member = dc.session_member(cmd.get("consumer_handle"))
    offsets = [TopicPartition(str(o["topic"]), int(o["partition"]), int(o["offset"])) for o in cmd.get("offsets") or []]
    # The group metadata is read on the session's own thread, which owns the consumer.
    metadata = dc.session_call(cmd.get("consumer_handle"), lambda: member.consumer.consumer_group_metadata(), "consumer_group_metadata")
    _txn_call(entry, "send_offsets_to_transaction", lambda p: p.send_offsets_to_transaction(offsets, metadata, TXN_TIMEOUT_S))
    return {}


def txn_commit(cid, cmd):
    _txn_call(_txn(cmd), "commit_transaction", lambda p: p.commit_transaction(TXN_TIMEOUT_S))
    return {}


def txn_abort(cid, cmd):
    _txn_call(_txn(cmd), "abort_transaction", lambda p: p.abort_transaction(TXN_TIMEOUT_S))
    return {}


def txn_producer_close(cid, cmd):
    entry = _txn_producers.pop(cmd.get("handle"), None)
    if entry is not None:
        dc.close_quietly(entry[0], _close_txn_producer)
    return {}


TXN_HANDLERS = {"txn_producer_open": txn_producer_open, "txn_begin": txn_begin, "txn_send": txn_send,
                "txn_send_offsets": txn_send_offsets, "txn_commit": txn_commit, "txn_abort": txn_abort,
                "txn_producer_close": txn_producer_close}


# ---------------------------------------------------------------------------------------
# Bench operations (PROTOCOL.md "Bench operations"): the records are generated here.

def _timeout(msg):
    return DriverError("TIMEOUT", msg)


def _perf_producer(cmd, watcher, extra=None):
    cfg = {"message.timeout.ms": MESSAGE_TIMEOUT_MS, "acks": _ACKS.get(str(cmd.get("acks") or "all"), "all")}
    cfg.update(extra or {})
    producer = _new(Producer, _config(cmd["conn"], watcher, cfg))
    dc.track(producer, lambda p: p.purge())
    return producer


def _perf_sender(producer, topic, failed):
    def on_delivery(err, _msg):
        if err is not None:
            failed.append(err)

    def send(value):
        while True:
            try:
                producer.produce(topic, value=value, on_delivery=on_delivery)
                break
            except BufferError:  # the local queue is full: serve delivery reports, then again
                producer.poll(0.05)
        producer.poll(0)
    return send


def _perf_flush(producer, watcher):
    def flush():
        left = producer.flush(MESSAGE_TIMEOUT_MS / 1000.0 + 5)
        watcher.check()
        if left:
            raise DriverError("TIMEOUT", "%d records unacknowledged after flush" % left)
    return flush


def _perf_consumer(cmd, watcher):
    consumer = _new(Consumer, _config(cmd["conn"], watcher, {
        "group.id": cmd["group_id"], "auto.offset.reset": "earliest", "enable.auto.commit": False,
        "session.timeout.ms": SESSION_TIMEOUT_MS, "heartbeat.interval.ms": HEARTBEAT_INTERVAL_MS,
    }))
    dc.track(consumer, lambda c: c.close())
    return consumer


def _values(consumer, watcher, batch=POLL_BATCH):
    # consume(num_messages=N, timeout) returns when N messages are there or the timeout passed:
    # the latency consumer asks for one at a time, or it would measure that wait.
    def poll(seconds):
        out = []
        for m in consumer.consume(num_messages=batch, timeout=seconds):
            if m.error() is not None:
                if m.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise translate(KafkaException(m.error()), watcher)
            out.append(m.value())
        watcher.check()
        return out
    return poll


def _drop(client, closer):
    try:
        closer(client)
    except Exception:
        pass
    dc.untrack(client)


def perf_produce(cid, cmd):
    watcher = _Watcher()
    producer = _perf_producer(cmd, watcher)
    failed = []
    send = _perf_sender(producer, cmd["topic"], failed)
    flush = _perf_flush(producer, watcher)

    def warmup(value):
        send(value)
        flush()
        if failed:
            raise translate(KafkaException(failed[0]), watcher)

    try:
        return perf.run_produce(send, flush,
                                lambda: (len(failed), translate(KafkaException(failed[0]), watcher) if failed else None),
                                int(cmd.get("num_records") or 100000), int(cmd.get("record_size") or 100),
                                warmup if cmd.get("warmup") else None)
    except KafkaException as e:
        raise translate(e, watcher)
    finally:
        _drop(producer, lambda p: (p.purge(), p.flush(0)))


def perf_consume(cid, cmd):
    watcher = _Watcher()
    consumer = _perf_consumer(cmd, watcher)
    assignment = perf.Assignment()
    try:
        consumer.subscribe([cmd["topic"]], on_assign=assignment.assigned)
        return perf.run_consume(_values(consumer, watcher), int(cmd["num_records"]), int(cmd.get("timeout_ms") or 120000), _timeout, assignment)
    except KafkaException as e:
        raise translate(e, watcher)
    finally:
        _drop(consumer, lambda c: c.close())


def perf_latency(cid, cmd):
    watcher = _Watcher()
    topic = cmd["topic"]
    consumer = _perf_consumer(cmd, watcher)
    producer = None
    failed = []
    try:
        consumer.subscribe([topic])
        producer = _perf_producer(cmd, watcher, {"linger.ms": 0})
        poll = _values(consumer, watcher, batch=1)

        def step():
            poll(0.1)

        return perf.run_latency(
            lambda: perf.wait_until(lambda: bool(consumer.assignment()), step, 30,
                                    "no partition assigned to the latency consumer", _timeout),
            _perf_sender(producer, topic, failed), _perf_flush(producer, watcher),
            poll, float(cmd["rate"]), int(cmd["duration_ms"]), int(cmd.get("record_size") or 100), _timeout)
    except KafkaException as e:
        raise translate(e, watcher)
    finally:
        if producer is not None:
            _drop(producer, lambda p: (p.purge(), p.flush(0)))
        _drop(consumer, lambda c: c.close())


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
    for op, handler, cap in (("list_topics", list_topics, "admin.listTopics"),
                             ("describe_topics", describe_topics, "admin.describeTopics"),
                             ("describe_topic_config", describe_topic_config, "admin.describeConfigs"),
                             ("list_groups", list_groups, "admin.groups"),
                             ("describe_group", describe_group, "admin.groups"),
                             ("committed_offsets", committed_offsets, "admin.committedOffsets"),
                             ("consumer_open", consumer_open, "groups.session")):
        if cap in CAPABILITIES:
            handlers[op] = handler
    if "groups.session" in CAPABILITIES:
        handlers.update(dc.session_handlers(seek="consumer.seek" in CAPABILITIES))
    if "transactions" in CAPABILITIES:
        handlers.update(TXN_HANDLERS)
    dc.run("confluent-kafka", VERSION, CAPABILITIES, handlers,
           {"librdkafka": LIBRDKAFKA, "python": sys.version.split()[0]})

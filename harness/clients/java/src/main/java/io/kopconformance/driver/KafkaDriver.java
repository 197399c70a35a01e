package io.kopconformance.driver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.DeleteTopicsOptions;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * The Java kafka-clients driver: a long-lived process speaking harness/clients/PROTOCOL.md.
 * Commands arrive as JSON lines on stdin and are handled one at a time; events leave as JSON
 * lines on stdout, which carries nothing else (System.out is pointed at stderr, where
 * slf4j-simple logs). Each broker operation opens its own client and closes it before answering.
 */
public final class KafkaDriver {
  static final String CLIENT = "java-kafka-clients";
  static final String[] CAPABILITIES = {"headers", "admin.createTopics", "admin.deleteTopics", "groups.commit",
      "produce.acks", "produce.idempotent", "compression.gzip", "compression.snappy", "compression.lz4", "compression.zstd",
      "timestamps", "commit.async", "commit.auto"};
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

  private final ObjectMapper json = new ObjectMapper();
  private final PrintStream out;
  /** Clients open right now, so that SIGTERM or a vanished parent can close them. */
  private final Set<Object> open = ConcurrentHashMap.newKeySet();
  private volatile boolean busy;

  private KafkaDriver(PrintStream out) {
    this.out = out;
  }

  public static void main(String[] args) throws Exception {
    PrintStream protocolOut = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
    System.setOut(System.err);
    KafkaDriver driver = new KafkaDriver(protocolOut);
    driver.installExitPaths();
    driver.startupComplete();
    driver.loop();
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  private void installExitPaths() {
    Runtime.getRuntime().addShutdownHook(new Thread(this::closeOpenClients, "kopc-shutdown"));
    // The JVM exits 143 on SIGTERM by default; PROTOCOL.md asks for 0 (hooks still run).
    try {
      sun.misc.Signal.handle(new sun.misc.Signal("TERM"), sig -> System.exit(0));
    } catch (Throwable e) {
      log("cannot install a SIGTERM handler (" + e + "); SIGTERM will exit 143");
    }
    String parent = System.getenv("KOPC_PARENT_PID");
    if (parent != null && !parent.isBlank()) {
      long pid;
      try {
        pid = Long.parseLong(parent.trim());
      } catch (NumberFormatException e) {
        log("KOPC_PARENT_PID is not a number: " + parent);
        return;
      }
      Thread watchdog = new Thread(() -> {
        while (true) {
          if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
            log("parent process " + pid + " is gone; exiting");
            System.exit(0);
          }
          try {
            Thread.sleep(500);
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "kopc-parent-watchdog");
      watchdog.setDaemon(true);
      watchdog.start();
    }
  }

  /** Runs on every exit path: wakes a polling consumer, closes the rest, waits for the command. */
  private void closeOpenClients() {
    for (Object c : open) {
      try {
        if (c instanceof KafkaConsumer) ((KafkaConsumer<?, ?>) c).wakeup();
        else if (c instanceof KafkaProducer) ((KafkaProducer<?, ?>) c).close(Duration.ofSeconds(2));
        else if (c instanceof Admin) ((Admin) c).close(Duration.ofSeconds(2));
      } catch (Throwable e) {
        log("closing " + c.getClass().getSimpleName() + " on exit: " + e);
      }
    }
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
    while (busy && System.nanoTime() < until) {
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private void startupComplete() {
    ObjectNode ev = json.createObjectNode();
    ev.put("event", "startup_complete");
    ev.put("client", CLIENT);
    ev.put("version", kafkaClientsVersion());
    ArrayNode caps = ev.putArray("capabilities");
    for (String c : CAPABILITIES) caps.add(c);
    emit(ev);
  }

  /**
   * AppInfoParser.getVersion(): the class moved to `utils.internals` in kafka-clients 4.x, so it
   * is looked up by name; both read kafka/kafka-version.properties, the fallback.
   */
  static String kafkaClientsVersion() {
    for (String cls : new String[] {"org.apache.kafka.common.utils.AppInfoParser", "org.apache.kafka.common.utils.internals.AppInfoParser"}) {
      try {
        Object v = Class.forName(cls).getMethod("getVersion").invoke(null);
        if (v != null) return v.toString();
      } catch (ReflectiveOperationException | LinkageError e) {
        // try the next location
      }
    }
    try (InputStream in = KafkaDriver.class.getClassLoader().getResourceAsStream("kafka/kafka-version.properties")) {
      Properties p = new Properties();
      if (in != null) p.load(in);
      return p.getProperty("version", "unknown");
    } catch (Exception e) {
      return "unknown";
    }
  }

  private void loop() throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      if (line.isBlank()) continue;
      JsonNode cmd;
      try {
        cmd = json.readTree(line);
      } catch (Exception e) {
        log("ignoring a stdin line that is not JSON (" + e.getClass().getSimpleName() + ")");
        continue;
      }
      if (cmd == null || !cmd.isObject() || !cmd.has("id") || !cmd.get("id").canConvertToLong()) {
        log("ignoring a command without an integer id");
        continue;
      }
      long id = cmd.get("id").asLong();
      String op = ClientConfig.text(cmd, "op");
      if ("shutdown".equals(op)) {
        emit(ok(id, json.createObjectNode()));
        System.exit(0);
      }
      busy = true;
      try {
        emit(ok(id, handle(id, op, cmd)));
      } catch (Throwable e) {
        emit(failure(id, e, ClientConfig.secretsOf(cmd.get("conn"))));
      } finally {
        busy = false;
      }
    }
    log("stdin closed; exiting");
    System.exit(0);
  }

  private ObjectNode handle(long id, String op, JsonNode cmd) throws Exception {
    if (op == null) throw new DriverException("UNKNOWN", "command lacks `op`");
    switch (op) {
      case "check_login": return checkLogin(cmd);
      case "create_topics": return createTopics(cmd);
      case "delete_topics": return deleteTopics(cmd);
      case "produce": return produce(id, cmd);
      case "consume": return consume(id, cmd);
      case "perf_produce": return perfProduce(cmd);
      default: throw new DriverException("UNKNOWN", "unknown op `" + op + "`");
    }
  }

  // ---- operations ----------------------------------------------------------------------------

  private ObjectNode checkLogin(JsonNode cmd) throws Exception {
    return withAdmin(cmd, admin -> {
      Collection<Node> nodes = admin.describeCluster(new DescribeClusterOptions().timeoutMs(ClientConfig.API_TIMEOUT_MS))
          .nodes().get(ClientConfig.API_TIMEOUT_MS + 5_000L, TimeUnit.MILLISECONDS);
      ObjectNode data = json.createObjectNode();
      data.put("brokers", nodes.size());
      return data;
    });
  }

  /** An admin operation: gets a connected Admin, returns the result's data. */
  private interface AdminCall {
    ObjectNode apply(Admin admin) throws Exception;
  }

  /** Opens an Admin client for the command's connection, runs `call`, and always closes it. */
  private ObjectNode withAdmin(JsonNode cmd, AdminCall call) throws Exception {
    ClientConfig cfg = ClientConfig.from(cmd.get("conn"), ClientConfig.Role.ADMIN);
    Admin admin = track(Admin.create(cfg.props));
    try {
      return call.apply(admin);
    } finally {
      untrack(admin);
      admin.close(CLOSE_TIMEOUT);
    }
  }

  private ObjectNode createTopics(JsonNode cmd) throws Exception {
    List<NewTopic> topics = new ArrayList<>();
    for (JsonNode t : array(cmd, "topics")) {
      JsonNode parts = t.get("partitions");
      Optional<Integer> partitions = parts == null || parts.isNull() ? Optional.empty() : Optional.of(parts.asInt());
      // Replication: the broker's default (KoP ignores it; the reference broker has one node).
      topics.add(new NewTopic(ClientConfig.required(t, "name"), partitions, Optional.empty()));
    }
    return withAdmin(cmd, admin -> {
      Map<String, ? extends Future<Void>> results =
          admin.createTopics(topics, new CreateTopicsOptions().timeoutMs(ClientConfig.API_TIMEOUT_MS)).values();
      for (Future<Void> f : results.values()) {
        try {
          f.get(ClientConfig.API_TIMEOUT_MS + 5_000L, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) throw e;
        }
      }
      return json.createObjectNode();
    });
  }

  /** PROTOCOL.md `delete_topics`: `topics: ["name", …]`; an absent topic is not an error. */
  private ObjectNode deleteTopics(JsonNode cmd) throws Exception {
    List<String> names = new ArrayList<>();
    for (JsonNode t : array(cmd, "topics")) names.add(t.isObject() ? ClientConfig.required(t, "name") : t.asText());
    return withAdmin(cmd, admin -> {
      // One request per topic: the per-topic result map was renamed between 2.8 and 4.x.
      for (String name : names) {
        try {
          admin.deleteTopics(Collections.singletonList(name), new DeleteTopicsOptions().timeoutMs(ClientConfig.API_TIMEOUT_MS))
              .all().get(ClientConfig.API_TIMEOUT_MS + 5_000L, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) throw e;
        }
      }
      return json.createObjectNode();
    });
  }

  private ObjectNode produce(long id, JsonNode cmd) throws Exception {
    ClientConfig cfg = ClientConfig.from(cmd.get("conn"), ClientConfig.Role.PRODUCER);
    Properties p = cfg.props;
    p.put("key.serializer", "org.apache.kafka.common.serialization.StringSerializer");
    p.put("value.serializer", "org.apache.kafka.common.serialization.StringSerializer");
    String acks = ClientConfig.text(cmd, "acks");
    if (acks != null) {
      if (!acks.equals("0") && !acks.equals("1") && !acks.equals("all") && !acks.equals("-1")) {
        throw new DriverException("UNSUPPORTED_SETTING", "acks must be \"0\", \"1\" or \"all\", not " + acks);
      }
      p.put("acks", acks);
    }
    String compression = ClientConfig.text(cmd, "compression");
    if (compression != null) p.put("compression.type", compression);
    JsonNode idem = cmd.get("idempotence");
    if (idem != null && !idem.isNull()) p.put("enable.idempotence", String.valueOf(idem.asBoolean()));

    String topic = ClientConfig.required(cmd, "topic");
    List<ProducerRecord<String, String>> records = new ArrayList<>();
    for (JsonNode r : array(cmd, "records")) {
      JsonNode part = r.get("partition");
      Integer partition = part == null || part.isNull() ? null : part.asInt();
      List<Header> headers = new ArrayList<>();
      JsonNode hs = r.get("headers");
      if (hs != null && hs.isObject()) {
        hs.fields().forEachRemaining(h -> headers.add(new RecordHeader(h.getKey(),
            h.getValue().isNull() ? null : h.getValue().asText().getBytes(StandardCharsets.UTF_8))));
      }
      String ts = ClientConfig.text(r, "timestamp");
      records.add(new ProducerRecord<>(topic, partition, ts == null ? null : Long.valueOf(ts),
          ClientConfig.text(r, "key"), ClientConfig.text(r, "value"), headers));
    }

    KafkaProducer<String, String> producer = track(new KafkaProducer<>(p));
    try {
      List<Future<RecordMetadata>> sent = new ArrayList<>();
      for (ProducerRecord<String, String> r : records) sent.add(producer.send(r));
      ObjectNode data = json.createObjectNode();
      ArrayNode acked = data.putArray("records");
      for (Future<RecordMetadata> f : sent) {
        RecordMetadata md = f.get(ClientConfig.MAX_BLOCK_MS + ClientConfig.DELIVERY_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        ObjectNode rec = acked.addObject();
        rec.put("topic", md.topic());
        rec.put("partition", md.partition());
        rec.put("offset", String.valueOf(md.offset()));
        ObjectNode ev = json.createObjectNode();
        ev.put("event", "producer_send_success");
        ev.put("id", id);
        ev.setAll(rec);
        emit(ev);
      }
      return data;
    } finally {
      untrack(producer);
      producer.close(CLOSE_TIMEOUT);
    }
  }

  /**
   * Throughput benchmark: `num_records` records of `record_size` random bytes sent as fast as the
   * producer takes them (the way kafka-producer-perf-test does), timed from the first send to
   * the last acknowledgement.
   */
  private ObjectNode perfProduce(JsonNode cmd) throws Exception {
    ClientConfig cfg = ClientConfig.from(cmd.get("conn"), ClientConfig.Role.PRODUCER);
    Properties p = cfg.props;
    p.put("key.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
    p.put("value.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
    String acks = ClientConfig.text(cmd, "acks");
    p.put("acks", acks == null ? "1" : acks);
    String topic = ClientConfig.required(cmd, "topic");
    int n = cmd.path("num_records").asInt(100_000);
    int size = cmd.path("record_size").asInt(100);
    byte[] payload = new byte[size];
    java.util.Random random = new java.util.Random(42);
    for (int i = 0; i < size; i++) payload[i] = (byte) (random.nextInt(26) + 65);
    KafkaProducer<byte[], byte[]> producer = track(new KafkaProducer<>(p));
    try {
      java.util.concurrent.atomic.AtomicLong failed = new java.util.concurrent.atomic.AtomicLong();
      java.util.concurrent.atomic.AtomicReference<Exception> firstError = new java.util.concurrent.atomic.AtomicReference<>();
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        producer.send(new ProducerRecord<>(topic, payload), (md, e) -> {
          if (e != null) { failed.incrementAndGet(); firstError.compareAndSet(null, e); }
        });
      }
      producer.flush();
      long elapsedNs = System.nanoTime() - t0;
      if (firstError.get() != null) throw firstError.get();
      double secs = elapsedNs / 1e9;
      ObjectNode data = json.createObjectNode();
      data.put("records", n);
      data.put("failed", failed.get());
      data.put("elapsed_ms", Math.round(elapsedNs / 1e6));
      data.put("records_per_sec", n / secs);
      data.put("mb_per_sec", n * (double) size / (1024 * 1024) / secs);
      return data;
    } finally {
      untrack(producer);
      producer.close(CLOSE_TIMEOUT);
    }
  }

  private ObjectNode consume(long id, JsonNode cmd) throws Exception {
    ClientConfig cfg = ClientConfig.from(cmd.get("conn"), ClientConfig.Role.CONSUMER);
    List<String> topics = new ArrayList<>();
    for (JsonNode t : array(cmd, "topics")) topics.add(t.asText());
    String group = ClientConfig.required(cmd, "group_id");
    boolean fromBeginning = cmd.has("from_beginning") && cmd.get("from_beginning").asBoolean();
    int count = cmd.has("count") ? cmd.get("count").asInt() : 1;
    long timeoutMs = cmd.has("timeout_ms") ? cmd.get("timeout_ms").asLong() : 30_000L;
    String commit = ClientConfig.text(cmd, "commit");
    if (commit == null) commit = "sync";
    if (!commit.equals("sync") && !commit.equals("async") && !commit.equals("auto") && !commit.equals("none")) {
      throw new DriverException("UNSUPPORTED_SETTING", "commit must be sync, async, auto or none, not " + commit);
    }

    Properties p = cfg.props;
    p.put("group.id", group);
    p.put("auto.offset.reset", fromBeginning ? "earliest" : "latest");
    p.put("enable.auto.commit", String.valueOf(commit.equals("auto")));
    if (commit.equals("auto")) p.put("auto.commit.interval.ms", "1000");
    p.put("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
    p.put("value.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");

    KafkaConsumer<String, String> consumer = track(new KafkaConsumer<>(p));
    try {
      consumer.subscribe(topics);
      List<ConsumerRecord<String, String>> got = new ArrayList<>();
      Map<TopicPartition, OffsetAndMetadata> consumed = new LinkedHashMap<>();
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
      while (got.size() < count) {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) break;
        ConsumerRecords<String, String> batch = consumer.poll(Duration.ofMillis(Math.min(left, 500)));
        if (batch.isEmpty()) continue;
        ObjectNode ev = json.createObjectNode();
        ev.put("event", "records_consumed");
        ev.put("id", id);
        ev.put("count", batch.count());
        emit(ev);
        Map<TopicPartition, Long> rewind = new HashMap<>();
        for (ConsumerRecord<String, String> r : batch) {
          TopicPartition tp = new TopicPartition(r.topic(), r.partition());
          if (got.size() < count && !rewind.containsKey(tp)) {
            got.add(r);
            consumed.put(tp, new OffsetAndMetadata(r.offset() + 1));
          } else {
            rewind.putIfAbsent(tp, r.offset());
          }
        }
        // Records beyond `count` were not returned, so no commit (auto included) may cover them.
        for (Map.Entry<TopicPartition, Long> e : rewind.entrySet()) consumer.seek(e.getKey(), e.getValue());
      }
      if (got.size() < count) {
        throw new DriverException("TIMEOUT", "consumed " + got.size() + " of " + count + " records from " + topics
            + " as group " + group + " within " + timeoutMs + " ms");
      }
      if (commit.equals("sync")) {
        consumer.commitSync(consumed, Duration.ofMillis(ClientConfig.API_TIMEOUT_MS));
        emitCommitted(id, consumed);
      } else if (commit.equals("async")) {
        // close() waits for in-flight async commits, so the callback fires before we answer.
        consumer.commitAsync(consumed, (offsets, error) -> {
          if (error == null) emitCommitted(id, offsets);
          else log("async commit failed: " + error.getClass().getSimpleName());
        });
      }
      ObjectNode data = json.createObjectNode();
      ArrayNode arr = data.putArray("records");
      for (ConsumerRecord<String, String> r : got) {
        ObjectNode rec = arr.addObject();
        rec.put("topic", r.topic());
        rec.put("partition", r.partition());
        rec.put("offset", String.valueOf(r.offset()));
        rec.put("key", r.key());
        rec.put("value", r.value());
        rec.put("timestamp", String.valueOf(r.timestamp()));
        ObjectNode hs = rec.putObject("headers");
        for (Header h : r.headers()) hs.put(h.key(), h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8));
      }
      return data;
    } catch (WakeupException e) {
      throw new DriverException("CLIENT_CRASHED", "the driver is exiting; consume interrupted");
    } finally {
      untrack(consumer);
      consumer.close(CLOSE_TIMEOUT);
    }
  }

  // ---- plumbing ------------------------------------------------------------------------------

  private void emitCommitted(long id, Map<TopicPartition, OffsetAndMetadata> offsets) {
    ObjectNode ev = json.createObjectNode();
    ev.put("event", "offsets_committed");
    ev.put("id", id);
    ArrayNode arr = ev.putArray("offsets");
    for (Map.Entry<TopicPartition, OffsetAndMetadata> e : offsets.entrySet()) {
      ObjectNode o = arr.addObject();
      o.put("topic", e.getKey().topic());
      o.put("partition", e.getKey().partition());
      o.put("offset", String.valueOf(e.getValue().offset()));
    }
    emit(ev);
  }

  private static Iterable<JsonNode> array(JsonNode cmd, String field) {
    JsonNode a = cmd.get(field);
    if (a == null || !a.isArray()) throw new DriverException("UNKNOWN", "command lacks the array `" + field + "`");
    return a;
  }

  private <T> T track(T client) {
    open.add(client);
    return client;
  }

  private void untrack(Object client) {
    open.remove(client);
  }

  private ObjectNode ok(long id, ObjectNode data) {
    ObjectNode ev = json.createObjectNode();
    ev.put("event", "result");
    ev.put("id", id);
    ev.put("ok", true);
    ev.set("data", data);
    return ev;
  }

  private ObjectNode failure(long id, Throwable e, List<String> secrets) {
    CanonicalErrors.Canonical c = CanonicalErrors.map(e, secrets);
    ObjectNode ev = json.createObjectNode();
    ev.put("event", "result");
    ev.put("id", id);
    ev.put("ok", false);
    ObjectNode err = ev.putObject("error");
    err.put("code", c.code);
    err.put("message", c.message);
    err.put("class", c.cls);
    log("command " + id + " failed: " + c.code + " (" + c.cls + ")");
    return ev;
  }

  private void emit(ObjectNode ev) {
    String line;
    try {
      line = json.writeValueAsString(ev);
    } catch (Exception e) {
      log("cannot serialise an event: " + e);
      return;
    }
    synchronized (out) {
      out.print(line);
      out.print('\n');
      out.flush();
    }
  }

  private static void log(String msg) {
    System.err.println("[kopc-java-driver] " + msg);
  }
}

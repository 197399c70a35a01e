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
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.DeleteTopicsOptions;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.clients.admin.DescribeConsumerGroupsOptions;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.DescribeTopicsResult;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions;
import org.apache.kafka.clients.admin.ListConsumerGroupsOptions;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
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
      "timestamps", "commit.async", "commit.auto",
      "admin.listTopics", "admin.describeTopics", "admin.describeConfigs", "admin.groups", "admin.committedOffsets",
      "groups.session", "consumer.seek", "api.versions", "transactions"};
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);
  /**
   * close() after commitAsync: kafka-clients' own default close bound (30 s), the one the seed's
   * Java example gets from close(). Whether close() waits for the async commit's answer depends on
   * the version: 2.8.0 sends it and then LeaveGroup without waiting (its ConsumerCoordinator counts
   * only commits queued behind a coordinator lookup), so the callback may never run; an endpoint
   * must still apply the commit first, as the requests arrive in that order (kop FINDINGS row 1).
   */
  private static final Duration ASYNC_COMMIT_CLOSE_TIMEOUT = Duration.ofSeconds(30);

  private final ObjectMapper json = new ObjectMapper();
  private final PrintStream out;
  /** Clients open right now, so that SIGTERM or a vanished parent can close them. */
  private final Set<Object> open = ConcurrentHashMap.newKeySet();
  private volatile boolean busy;
  /** Consumer sessions (PROTOCOL.md "Consumer sessions") by handle: used by the command thread, closed by the exit hook. */
  private final Map<String, Session> sessions = new ConcurrentHashMap<>();
  private final AtomicLong sessionSeq = new AtomicLong();
  /** Transactional producers (PROTOCOL.md "Transactions") by handle. */
  private final Map<String, KafkaProducer<String, String>> txnProducers = new ConcurrentHashMap<>();

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

  /**
   * Runs on every exit path: wakes a polling consumer, closes the rest, waits for the command,
   * then closes the sessions still open (so their members leave the group).
   */
  private void closeOpenClients() {
    for (Session s : sessions.values()) {
      try {
        s.consumer.wakeup();
      } catch (Throwable e) {
        log("waking session " + s.handle + " on exit: " + e);
      }
    }
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
    closeAllSessions(Duration.ofMillis(1500));
    closeAllTxnProducers();
  }

  /** Closes every transactional producer (an open transaction is left to the coordinator). */
  private void closeAllTxnProducers() {
    for (String handle : new ArrayList<>(txnProducers.keySet())) {
      KafkaProducer<String, String> p = txnProducers.remove(handle);
      if (p == null) continue;
      try {
        p.close(Duration.ofSeconds(1));
      } catch (Throwable e) {
        log("closing transactional producer " + handle + ": " + e.getClass().getSimpleName());
      }
    }
  }

  /** Closes every session within `budget` overall (each member leaves the group). */
  @SuppressWarnings("deprecation") // close(Duration): deprecated in 4.x for close(CloseOptions), which 2.8 lacks
  private void closeAllSessions(Duration budget) {
    long until = System.nanoTime() + budget.toNanos();
    for (String handle : new ArrayList<>(sessions.keySet())) {
      Session s = sessions.remove(handle);
      if (s == null) continue;
      long left = Math.max(0L, TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime()));
      try {
        s.consumer.close(Duration.ofMillis(left));
      } catch (Throwable e) {
        log("closing session " + handle + ": " + e.getClass().getSimpleName());
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
        // The parent waits 10 s for this answer: the sessions get 6 s of it to leave their groups.
        closeAllSessions(Duration.ofSeconds(6));
        closeAllTxnProducers();
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
      case "perf_consume": return perfConsume(cmd);
      case "perf_latency": return perfLatency(cmd);
      case "list_topics": return listTopics(cmd);
      case "describe_topics": return describeTopics(cmd);
      case "describe_topic_config": return describeTopicConfig(cmd);
      case "list_groups": return listGroups(cmd);
      case "describe_group": return describeGroup(cmd);
      case "committed_offsets": return committedOffsets(cmd);
      case "consumer_open": return consumerOpen(cmd);
      case "consumer_poll": return consumerPoll(id, cmd);
      case "consumer_commit": return consumerCommit(id, cmd);
      case "consumer_seek": return consumerSeek(cmd);
      case "consumer_close": return consumerClose(cmd);
      case "client_api_versions": return clientApiVersions();
      case "txn_producer_open": return txnProducerOpen(cmd);
      case "txn_begin": return txnBegin(cmd);
      case "txn_send": return txnSend(id, cmd);
      case "txn_send_offsets": return txnSendOffsets(cmd);
      case "txn_commit": return txnCommit(cmd);
      case "txn_abort": return txnAbort(cmd);
      case "txn_producer_close": return txnProducerClose(cmd);
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

    List<ProducerRecord<String, String>> records = producerRecords(cmd);
    KafkaProducer<String, String> producer = track(new KafkaProducer<>(p));
    try {
      return sendAll(id, producer, records);
    } finally {
      untrack(producer);
      producer.close(CLOSE_TIMEOUT);
    }
  }

  /** The command's `topic` and `records` as ProducerRecords (PROTOCOL.md record fields). */
  private static List<ProducerRecord<String, String>> producerRecords(JsonNode cmd) {
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
    return records;
  }

  /** Sends in order and waits for each acknowledgement; the `records` result with a progress event per record. */
  private ObjectNode sendAll(long id, KafkaProducer<String, String> producer, List<ProducerRecord<String, String>> records) throws Exception {
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
    p.put("acks", acks == null ? "all" : acks);
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
      // warmup: one record acknowledged first (connection, login, metadata), outside the clock.
      if (cmd.path("warmup").asBoolean(false)) producer.send(new ProducerRecord<>(topic, payload)).get(ClientConfig.API_TIMEOUT_MS, TimeUnit.MILLISECONDS);
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

  /** Bench consumer: earliest, no commits, byte arrays, a fresh group per command. */
  private KafkaConsumer<byte[], byte[]> perfConsumer(JsonNode cmd) throws Exception {
    Properties p = ClientConfig.from(cmd.get("conn"), ClientConfig.Role.CONSUMER).props;
    p.put("group.id", ClientConfig.required(cmd, "group_id"));
    p.put("auto.offset.reset", "earliest");
    p.put("enable.auto.commit", "false");
    p.put("key.deserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer");
    p.put("value.deserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer");
    return track(new KafkaConsumer<>(p));
  }

  /**
   * PROTOCOL.md `perf_consume`: reads `num_records`; the clock runs from the moment the partition
   * was assigned (the group join left out) to the last record.
   */
  private ObjectNode perfConsume(JsonNode cmd) throws Exception {
    String topic = ClientConfig.required(cmd, "topic");
    long n = cmd.path("num_records").asLong();
    long timeoutMs = cmd.path("timeout_ms").asLong(120_000L);
    KafkaConsumer<byte[], byte[]> consumer = perfConsumer(cmd);
    try {
      AtomicLong assignedAt = new AtomicLong();
      consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
        @Override public void onPartitionsRevoked(Collection<TopicPartition> partitions) {}
        @Override public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
          assignedAt.compareAndSet(0, System.nanoTime());
        }
      });
      long tStart = System.nanoTime();
      long deadline = tStart + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
      long got = 0, bytes = 0, tLast = tStart;
      while (got < n) {
        if (System.nanoTime() > deadline) {
          throw new DriverException("TIMEOUT", "consumed " + got + " of " + n + " records within " + timeoutMs + " ms");
        }
        ConsumerRecords<byte[], byte[]> batch = consumer.poll(Duration.ofMillis(500));
        if (batch.isEmpty()) continue;
        tLast = System.nanoTime();
        for (ConsumerRecord<byte[], byte[]> r : batch) bytes += r.value() == null ? 0 : r.value().length;
        got += batch.count();
      }
      long t0 = assignedAt.get() != 0 ? assignedAt.get() : tStart;
      double secs = Math.max(1e-9, (tLast - t0) / 1e9);
      ObjectNode data = json.createObjectNode();
      data.put("records", got);
      data.put("bytes", bytes);
      data.put("elapsed_ms", secs * 1000);
      data.put("total_ms", (tLast - tStart) / 1e6);
      data.put("records_per_sec", got / secs);
      data.put("mb_per_sec", bytes / (1024.0 * 1024.0) / secs);
      return data;
    } catch (WakeupException e) {
      throw new DriverException("CLIENT_CRASHED", "the driver is exiting; perf_consume interrupted");
    } finally {
      untrack(consumer);
      consumer.close(CLOSE_TIMEOUT);
    }
  }

  static final int STAMP_LEN = 16;

  static long nowMicros() {
    java.time.Instant t = java.time.Instant.now();
    return t.getEpochSecond() * 1_000_000L + t.getNano() / 1_000;
  }

  /**
   * PROTOCOL.md `perf_latency`: once the consumer has its assignment, a producer thread sends
   * `rate` records a second for `duration_ms`, each value starting with its send time (16 ASCII
   * digits of epoch microseconds); the consumer records receive time minus send time.
   */
  private ObjectNode perfLatency(JsonNode cmd) throws Exception {
    String topic = ClientConfig.required(cmd, "topic");
    double rate = cmd.path("rate").asDouble();
    long durationMs = cmd.path("duration_ms").asLong();
    int size = cmd.path("record_size").asInt(100);
    if (size < STAMP_LEN || rate <= 0) throw new DriverException("UNSUPPORTED_SETTING", "perf_latency needs rate > 0 and record_size >= " + STAMP_LEN);
    int n = (int) Math.max(1, Math.floor(rate * durationMs / 1000.0));
    Properties pp = ClientConfig.from(cmd.get("conn"), ClientConfig.Role.PRODUCER).props;
    pp.put("key.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
    pp.put("value.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
    String acks = ClientConfig.text(cmd, "acks");
    pp.put("acks", acks == null ? "all" : acks);
    pp.put("linger.ms", "0");
    KafkaConsumer<byte[], byte[]> consumer = perfConsumer(cmd);
    KafkaProducer<byte[], byte[]> producer = null;
    try {
      consumer.subscribe(List.of(topic));
      long assignDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (consumer.assignment().isEmpty()) {
        if (System.nanoTime() > assignDeadline) throw new DriverException("TIMEOUT", "no partition assigned to the latency consumer within 30 s");
        consumer.poll(Duration.ofMillis(100));
      }
      producer = track(new KafkaProducer<>(pp));
      final KafkaProducer<byte[], byte[]> prod = producer;
      // One warm-up record (stamp 0) goes round first, so the fetch path is running when the clock does.
      byte[] warm = new byte[size];
      for (int j = 0; j < size; j++) warm[j] = j < STAMP_LEN ? (byte) '0' : (byte) (65 + j % 26);
      prod.send(new ProducerRecord<>(topic, warm)).get(ClientConfig.API_TIMEOUT_MS, TimeUnit.MILLISECONDS);
      long warmDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      boolean warmSeen = false;
      while (!warmSeen) {
        if (System.nanoTime() > warmDeadline) throw new DriverException("TIMEOUT", "the warm-up latency record did not come back within 30 s");
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
          if (Long.parseLong(new String(r.value(), 0, STAMP_LEN, StandardCharsets.US_ASCII)) == 0) warmSeen = true;
        }
      }
      java.util.concurrent.atomic.AtomicReference<Exception> error = new java.util.concurrent.atomic.AtomicReference<>();
      AtomicLong sent = new AtomicLong();
      Thread sender = new Thread(() -> {
        try {
          long t0 = System.nanoTime();
          for (int i = 0; i < n && error.get() == null; i++) {
            long due = t0 + (long) (i * 1e9 / rate);
            long wait;
            while ((wait = due - System.nanoTime()) > 0) java.util.concurrent.locks.LockSupport.parkNanos(wait);
            byte[] v = new byte[size];
            byte[] stamp = String.format("%016d", nowMicros()).getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(stamp, 0, v, 0, STAMP_LEN);
            for (int j = STAMP_LEN; j < size; j++) v[j] = (byte) (65 + j % 26);
            prod.send(new ProducerRecord<>(topic, v), (md, e) -> { if (e != null) error.compareAndSet(null, e); });
            sent.incrementAndGet();
          }
          prod.flush();
        } catch (Exception e) {
          error.compareAndSet(null, e);
        }
      }, "perf-latency-producer");
      sender.setDaemon(true);
      sender.start();
      long[] lat = new long[n];
      int got = 0;
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(durationMs + 30_000);
      while (got < n) {
        if (error.get() != null) throw error.get();
        if (System.nanoTime() > deadline) {
          throw new DriverException("TIMEOUT", "received " + got + " of " + n + " latency records (" + sent.get() + " sent)");
        }
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
          long now = nowMicros();
          long stamp = Long.parseLong(new String(r.value(), 0, STAMP_LEN, StandardCharsets.US_ASCII));
          if (stamp != 0 && got < n) lat[got++] = now - stamp;
        }
      }
      sender.join(10_000);
      if (error.get() != null) throw error.get();
      ObjectNode data = json.createObjectNode();
      data.put("sent", sent.get());
      data.put("received", got);
      ArrayNode arr = data.putArray("latencies_us");
      for (int i = 0; i < got; i++) arr.add(lat[i]);
      return data;
    } catch (WakeupException e) {
      throw new DriverException("CLIENT_CRASHED", "the driver is exiting; perf_latency interrupted");
    } finally {
      if (producer != null) {
        untrack(producer);
        producer.close(CLOSE_TIMEOUT);
      }
      untrack(consumer);
      consumer.close(CLOSE_TIMEOUT);
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
    applyIsolationLevel(cmd, p);
    p.put("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
    p.put("value.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");

    KafkaConsumer<String, String> consumer = track(new KafkaConsumer<>(p));
    try {
      consumer.subscribe(topics);
      List<ConsumerRecord<String, String>> got = new ArrayList<>();
      // `count` counts distinct records (topic, partition, offset): a record delivered again (a
      // member that lost its group re-reads from the last commit) is returned, for the delivery
      // checker, but not counted (harness/clients/consume-count.ts).
      Set<String> distinct = new HashSet<>();
      Map<TopicPartition, OffsetAndMetadata> consumed = new LinkedHashMap<>();
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
      while (distinct.size() < count) {
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
          if (distinct.size() < count && !rewind.containsKey(tp)) {
            got.add(r);
            distinct.add(r.topic() + "\u0000" + r.partition() + "\u0000" + r.offset());
            // The highest, not the last: a record delivered again may come after higher ones.
            consumed.merge(tp, new OffsetAndMetadata(r.offset() + 1), (a, b) -> a.offset() >= b.offset() ? a : b);
          } else {
            rewind.putIfAbsent(tp, r.offset());
          }
        }
        // Records beyond `count` were not returned, so no commit (auto included) may cover them.
        for (Map.Entry<TopicPartition, Long> e : rewind.entrySet()) consumer.seek(e.getKey(), e.getValue());
      }
      if (distinct.size() < count) {
        throw new DriverException("TIMEOUT", "consumed " + distinct.size() + " of " + count + " records from " + topics
            + " as group " + group + " within " + timeoutMs + " ms");
      }
      if (commit.equals("sync")) {
        consumer.commitSync(consumed, Duration.ofMillis(ClientConfig.API_TIMEOUT_MS));
        emitCommitted(id, consumed);
      } else if (commit.equals("async")) {
        // The callback may not run before close() returns (see ASYNC_COMMIT_CLOSE_TIMEOUT); a
        // refusal is then only in kafka-clients' own ERROR log line, which reaches stderr too.
        consumer.commitAsync(consumed, (offsets, error) -> {
          if (error == null) emitCommitted(id, offsets);
          else log("async commit failed: " + error.getClass().getSimpleName() + ": " + error.getMessage());
        });
      }
      ObjectNode data = json.createObjectNode();
      ArrayNode arr = data.putArray("records");
      for (ConsumerRecord<String, String> r : got) putRecord(arr, r);
      return data;
    } catch (WakeupException e) {
      throw new DriverException("CLIENT_CRASHED", "the driver is exiting; consume interrupted");
    } finally {
      untrack(consumer);
      consumer.close(commit.equals("async") ? ASYNC_COMMIT_CLOSE_TIMEOUT : CLOSE_TIMEOUT);
    }
  }

  // ---- admin operations (PROTOCOL.md "Admin operations") -------------------------------------

  private static final long ADMIN_WAIT_MS = ClientConfig.API_TIMEOUT_MS + 5_000L;

  /** `list_topics`: every topic the login may see, internal ones left out, sorted. */
  private ObjectNode listTopics(JsonNode cmd) throws Exception {
    return withAdmin(cmd, admin -> {
      Set<String> names = admin.listTopics(new ListTopicsOptions().listInternal(false).timeoutMs(ClientConfig.API_TIMEOUT_MS))
          .names().get(ADMIN_WAIT_MS, TimeUnit.MILLISECONDS);
      return sortedNames("topics", names);
    });
  }

  /** The API keys this kafka-clients version knows, each with the oldest and latest version it speaks. */
  private ObjectNode clientApiVersions() {
    ObjectNode data = json.createObjectNode();
    ArrayNode arr = data.putArray("apis");
    for (org.apache.kafka.common.protocol.ApiKeys k : org.apache.kafka.common.protocol.ApiKeys.values()) {
      try {
        ObjectNode a = arr.addObject();
        a.put("key", k.id);
        a.put("name", k.name);
        a.put("min", k.oldestVersion());
        a.put("max", k.latestVersion());
      } catch (RuntimeException e) {
        log("api " + k.name + ": no version range (" + e.getClass().getSimpleName() + ")");
      }
    }
    return data;
  }

  /** `{"<field>": [names, sorted]}`. */
  private ObjectNode sortedNames(String field, Collection<String> names) {
    List<String> sorted = new ArrayList<>(names);
    Collections.sort(sorted);
    ObjectNode data = json.createObjectNode();
    ArrayNode arr = data.putArray(field);
    for (String n : sorted) arr.add(n);
    return data;
  }

  /** `describe_topics`: name and partition count, in the order asked; a missing topic fails the command. */
  private ObjectNode describeTopics(JsonNode cmd) throws Exception {
    List<String> names = new ArrayList<>();
    for (JsonNode t : array(cmd, "topics")) names.add(t.isObject() ? ClientConfig.required(t, "name") : t.asText());
    return withAdmin(cmd, admin -> {
      DescribeTopicsResult result = admin.describeTopics(names, new DescribeTopicsOptions().timeoutMs(ClientConfig.API_TIMEOUT_MS));
      Map<String, KafkaFuture<TopicDescription>> byName = topicNameFutures(result);
      ObjectNode data = json.createObjectNode();
      ArrayNode arr = data.putArray("topics");
      for (String name : names) {
        KafkaFuture<TopicDescription> f = byName.get(name);
        if (f == null) throw new DriverException("UNKNOWN", "the client returned no description for topic " + name);
        TopicDescription d = f.get(ADMIN_WAIT_MS, TimeUnit.MILLISECONDS);
        ObjectNode o = arr.addObject();
        o.put("name", d.name());
        o.put("partitions", d.partitions().size());
      }
      return data;
    });
  }

  /**
   * The per-topic futures of a DescribeTopicsResult: `values()` in kafka-clients 2.8,
   * `topicNameValues()` from 3.1 on (`values()` was removed in 4.0), so looked up by name.
   */
  @SuppressWarnings("unchecked")
  static Map<String, KafkaFuture<TopicDescription>> topicNameFutures(DescribeTopicsResult result) throws Exception {
    for (String method : new String[] {"topicNameValues", "values"}) {
      Method m;
      try {
        m = DescribeTopicsResult.class.getMethod(method);
      } catch (NoSuchMethodException e) {
        continue;
      }
      return (Map<String, KafkaFuture<TopicDescription>>) m.invoke(result);
    }
    throw new DriverException("UNKNOWN", "DescribeTopicsResult has neither topicNameValues() nor values()");
  }

  /** `describe_topic_config`: the topic's configuration entries, name → value (null where hidden). */
  private ObjectNode describeTopicConfig(JsonNode cmd) throws Exception {
    String topic = ClientConfig.required(cmd, "topic");
    return withAdmin(cmd, admin -> {
      ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
      Map<ConfigResource, Config> all = admin.describeConfigs(Collections.singletonList(resource),
          new DescribeConfigsOptions().timeoutMs(ClientConfig.API_TIMEOUT_MS)).all().get(ADMIN_WAIT_MS, TimeUnit.MILLISECONDS);
      Config config = all.get(resource);
      if (config == null) throw new DriverException("UNKNOWN", "the client returned no configuration for topic " + topic);
      Map<String, String> sorted = new TreeMap<>();
      for (ConfigEntry e : config.entries()) sorted.put(e.name(), e.value());
      ObjectNode data = json.createObjectNode();
      ObjectNode configs = data.putObject("configs");
      for (Map.Entry<String, String> e : sorted.entrySet()) configs.put(e.getKey(), e.getValue());
      return data;
    });
  }

  /**
   * `list_groups`: the consumer groups' ids. listConsumerGroups is deprecated in kafka-clients 4.x
   * (in favour of listGroups, which 2.8 lacks) but present in both.
   */
  @SuppressWarnings({"deprecation", "removal"})
  private ObjectNode listGroups(JsonNode cmd) throws Exception {
    return withAdmin(cmd, admin -> {
      Collection<ConsumerGroupListing> listed = admin.listConsumerGroups(new ListConsumerGroupsOptions().timeoutMs(ClientConfig.API_TIMEOUT_MS))
          .all().get(ADMIN_WAIT_MS, TimeUnit.MILLISECONDS);
      List<String> ids = new ArrayList<>();
      for (ConsumerGroupListing g : listed) ids.add(g.groupId());
      return sortedNames("groups", ids);
    });
  }

  /** `describe_group`: the group's state as the broker names it and its member count. */
  private ObjectNode describeGroup(JsonNode cmd) throws Exception {
    String group = ClientConfig.required(cmd, "group_id");
    return withAdmin(cmd, admin -> {
      Map<String, ConsumerGroupDescription> all = admin.describeConsumerGroups(Collections.singletonList(group),
          new DescribeConsumerGroupsOptions().timeoutMs(ClientConfig.API_TIMEOUT_MS)).all().get(ADMIN_WAIT_MS, TimeUnit.MILLISECONDS);
      ConsumerGroupDescription d = all.get(group);
      if (d == null) throw new DriverException("UNKNOWN", "the client returned no description for group " + group);
      ObjectNode data = json.createObjectNode();
      data.put("group_id", d.groupId());
      data.put("state", groupState(d));
      data.put("members", d.members().size());
      return data;
    });
  }

  /**
   * ConsumerGroupDescription's state: `groupState()` (a GroupState) from kafka-clients 4.0, where
   * `state()` (a ConsumerGroupState) is deprecated; 2.8 has only `state()`. Both print as the
   * broker's name (`Stable`, `Empty`, …).
   */
  static String groupState(ConsumerGroupDescription d) throws Exception {
    for (String method : new String[] {"groupState", "state"}) {
      Method m;
      try {
        m = ConsumerGroupDescription.class.getMethod(method);
      } catch (NoSuchMethodException e) {
        continue;
      }
      Object state = m.invoke(d);
      return state == null ? "Unknown" : state.toString();
    }
    throw new DriverException("UNKNOWN", "ConsumerGroupDescription has neither groupState() nor state()");
  }

  /** `committed_offsets`: the group's committed offsets, partitions without a commit left out. */
  private ObjectNode committedOffsets(JsonNode cmd) throws Exception {
    String group = ClientConfig.required(cmd, "group_id");
    return withAdmin(cmd, admin -> {
      Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group,
          new ListConsumerGroupOffsetsOptions().timeoutMs(ClientConfig.API_TIMEOUT_MS))
          .partitionsToOffsetAndMetadata().get(ADMIN_WAIT_MS, TimeUnit.MILLISECONDS);
      List<TopicPartition> tps = new ArrayList<>();
      for (Map.Entry<TopicPartition, OffsetAndMetadata> e : offsets.entrySet()) {
        if (e.getValue() != null && e.getValue().offset() >= 0) tps.add(e.getKey());
      }
      tps.sort(BY_TOPIC_PARTITION);
      ObjectNode data = json.createObjectNode();
      ArrayNode arr = data.putArray("offsets");
      for (TopicPartition tp : tps) {
        ObjectNode o = arr.addObject();
        o.put("topic", tp.topic());
        o.put("partition", tp.partition());
        o.put("offset", String.valueOf(offsets.get(tp).offset()));
      }
      return data;
    });
  }

  // ---- consumer sessions (PROTOCOL.md "Consumer sessions") -----------------------------------

  private static final Comparator<TopicPartition> BY_TOPIC_PARTITION =
      Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition);

  /** One group member living across commands. */
  private static final class Session {
    final String handle;
    final KafkaConsumer<String, String> consumer;
    /** Per partition, the offset after the last record this session returned (what a commit covers). */
    final Map<TopicPartition, Long> returned = new HashMap<>();

    Session(String handle, KafkaConsumer<String, String> consumer) {
      this.handle = handle;
      this.consumer = consumer;
    }
  }

  private Session session(JsonNode cmd) {
    String handle = ClientConfig.required(cmd, "handle");
    Session s = sessions.get(handle);
    if (s == null) throw new DriverException("UNKNOWN", "no open consumer session with handle `" + handle + "` (never opened, or closed)");
    return s;
  }

  /** `consumer_open`: a consumer with auto-commit off, subscribed; it joins on its first poll. */
  @SuppressWarnings("deprecation") // close(Duration): deprecated in 4.x for close(CloseOptions), which 2.8 lacks
  private ObjectNode consumerOpen(JsonNode cmd) throws Exception {
    ClientConfig cfg = ClientConfig.from(cmd.get("conn"), ClientConfig.Role.CONSUMER);
    List<String> topics = new ArrayList<>();
    for (JsonNode t : array(cmd, "topics")) topics.add(t.asText());
    String group = ClientConfig.required(cmd, "group_id");
    boolean fromBeginning = cmd.has("from_beginning") && cmd.get("from_beginning").asBoolean();
    Properties p = cfg.props;
    p.put("group.id", group);
    p.put("auto.offset.reset", fromBeginning ? "earliest" : "latest");
    p.put("enable.auto.commit", "false");
    // Bounded group timing: a member that vanishes is dropped in 10 s, a rebalance waits at most 30 s.
    p.put("session.timeout.ms", "10000");
    p.put("heartbeat.interval.ms", "1000");
    p.put("max.poll.interval.ms", "30000");
    applyIsolationLevel(cmd, p);
    p.put("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
    p.put("value.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");

    String handle = "java-session-" + sessionSeq.incrementAndGet();
    KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p);
    Session s = new Session(handle, consumer);
    try {
      consumer.subscribe(topics, new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
          // Records returned from a partition this member gave up are no longer its to commit.
          for (TopicPartition tp : partitions) s.returned.remove(tp);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
          // nothing: the position comes from the group's committed offset or auto.offset.reset
        }
      });
    } catch (RuntimeException e) {
      consumer.close(Duration.ZERO);
      throw e;
    }
    sessions.put(handle, s);
    ObjectNode data = json.createObjectNode();
    data.put("handle", handle);
    return data;
  }

  /** `consumer_poll`: one poll bounded by `timeout_ms`; the records and the assignment after it. */
  private ObjectNode consumerPoll(long id, JsonNode cmd) throws Exception {
    Session s = session(cmd);
    long timeoutMs = cmd.has("timeout_ms") ? Math.max(0L, cmd.get("timeout_ms").asLong()) : 1_000L;
    ConsumerRecords<String, String> batch;
    try {
      batch = s.consumer.poll(Duration.ofMillis(timeoutMs));
    } catch (WakeupException e) {
      throw new DriverException("CLIENT_CRASHED", "the driver is exiting; poll interrupted");
    }
    ObjectNode data = json.createObjectNode();
    ArrayNode arr = data.putArray("records");
    for (ConsumerRecord<String, String> r : batch) {
      putRecord(arr, r);
      s.returned.put(new TopicPartition(r.topic(), r.partition()), r.offset() + 1);
    }
    if (!batch.isEmpty()) {
      ObjectNode ev = json.createObjectNode();
      ev.put("event", "records_consumed");
      ev.put("id", id);
      ev.put("count", batch.count());
      emit(ev);
    }
    List<TopicPartition> assignment = new ArrayList<>(s.consumer.assignment());
    assignment.sort(BY_TOPIC_PARTITION);
    ArrayNode as = data.putArray("assignment");
    for (TopicPartition tp : assignment) {
      ObjectNode o = as.addObject();
      o.put("topic", tp.topic());
      o.put("partition", tp.partition());
    }
    return data;
  }

  /** `consumer_commit`: commits, synchronously, the position after every record this session returned. */
  private ObjectNode consumerCommit(long id, JsonNode cmd) throws Exception {
    Session s = session(cmd);
    List<TopicPartition> tps = new ArrayList<>(s.returned.keySet());
    tps.sort(BY_TOPIC_PARTITION);
    Map<TopicPartition, OffsetAndMetadata> offsets = new LinkedHashMap<>();
    for (TopicPartition tp : tps) offsets.put(tp, new OffsetAndMetadata(s.returned.get(tp)));
    if (!offsets.isEmpty()) {
      try {
        s.consumer.commitSync(offsets, Duration.ofMillis(ClientConfig.API_TIMEOUT_MS));
      } catch (WakeupException e) {
        throw new DriverException("CLIENT_CRASHED", "the driver is exiting; commit interrupted");
      }
      emitCommitted(id, offsets);
    }
    ObjectNode data = json.createObjectNode();
    ArrayNode arr = data.putArray("offsets");
    for (Map.Entry<TopicPartition, OffsetAndMetadata> e : offsets.entrySet()) {
      ObjectNode o = arr.addObject();
      o.put("topic", e.getKey().topic());
      o.put("partition", e.getKey().partition());
      o.put("offset", String.valueOf(e.getValue().offset()));
    }
    return data;
  }

  /** `consumer_seek`: the next poll reads `partition` from `offset`; the partition must be assigned. */
  private ObjectNode consumerSeek(JsonNode cmd) throws Exception {
    Session s = session(cmd);
    String topic = ClientConfig.required(cmd, "topic");
    JsonNode part = cmd.get("partition");
    if (part == null || !part.canConvertToInt()) throw new DriverException("UNKNOWN", "command lacks the integer `partition`");
    String offsetText = ClientConfig.required(cmd, "offset");
    long offset;
    try {
      offset = Long.parseLong(offsetText.trim());
    } catch (NumberFormatException e) {
      throw new DriverException("UNKNOWN", "`offset` is not a decimal integer: " + offsetText);
    }
    TopicPartition tp = new TopicPartition(topic, part.asInt());
    if (!s.consumer.assignment().contains(tp)) {
      throw new DriverException("UNKNOWN", "cannot seek " + tp + ": it is not assigned to session " + s.handle
          + " (assignment " + s.consumer.assignment() + "); poll until it is");
    }
    s.consumer.seek(tp, offset);
    return json.createObjectNode();
  }

  /** `consumer_close`: leaves the group and forgets the handle; an unknown handle is not an error. */
  @SuppressWarnings("deprecation") // close(Duration): deprecated in 4.x for close(CloseOptions), which 2.8 lacks
  private ObjectNode consumerClose(JsonNode cmd) throws Exception {
    String handle = ClientConfig.required(cmd, "handle");
    Session s = sessions.remove(handle);
    if (s != null) s.consumer.close(Duration.ofSeconds(10));
    return json.createObjectNode();
  }

  // ---- transactions (PROTOCOL.md "Transactions") ---------------------------------------------

  /** How long a transactional call may block (initTransactions, commit, abort, sendOffsets). */
  private static final int TXN_MAX_BLOCK_MS = 25_000;

  /** `isolation_level` of `consume` / `consumer_open`, when given. */
  private static void applyIsolationLevel(JsonNode cmd, Properties p) {
    String level = ClientConfig.text(cmd, "isolation_level");
    if (level == null) return;
    if (!level.equals("read_committed") && !level.equals("read_uncommitted")) {
      throw new DriverException("UNSUPPORTED_SETTING", "isolation_level must be read_committed or read_uncommitted, not " + level);
    }
    p.put("isolation.level", level);
  }

  private KafkaProducer<String, String> txnProducer(JsonNode cmd) {
    String handle = ClientConfig.required(cmd, "handle");
    KafkaProducer<String, String> p = txnProducers.get(handle);
    if (p == null) throw new DriverException("UNKNOWN", "no open transactional producer with handle `" + handle + "` (never opened, or closed)");
    return p;
  }

  /** `txn_producer_open`: a producer with the command's transactional.id, initialised. */
  private ObjectNode txnProducerOpen(JsonNode cmd) throws Exception {
    Properties p = ClientConfig.from(cmd.get("conn"), ClientConfig.Role.PRODUCER).props;
    p.put("key.serializer", "org.apache.kafka.common.serialization.StringSerializer");
    p.put("value.serializer", "org.apache.kafka.common.serialization.StringSerializer");
    p.put("transactional.id", ClientConfig.required(cmd, "transactional_id"));
    p.put("enable.idempotence", "true");
    p.put("acks", "all");
    p.put("max.block.ms", String.valueOf(TXN_MAX_BLOCK_MS));
    p.put("transaction.timeout.ms", "60000");
    KafkaProducer<String, String> producer = track(new KafkaProducer<>(p));
    try {
      producer.initTransactions();
    } catch (RuntimeException e) {
      producer.close(Duration.ZERO);
      throw e;
    } finally {
      untrack(producer);
    }
    String handle = "java-txn-" + sessionSeq.incrementAndGet();
    txnProducers.put(handle, producer);
    ObjectNode data = json.createObjectNode();
    data.put("handle", handle);
    return data;
  }

  private ObjectNode txnBegin(JsonNode cmd) {
    txnProducer(cmd).beginTransaction();
    return json.createObjectNode();
  }

  private ObjectNode txnSend(long id, JsonNode cmd) throws Exception {
    return sendAll(id, txnProducer(cmd), producerRecords(cmd));
  }

  /** `txn_send_offsets`: with the group metadata (group, generation, member) of a consumer session. */
  private ObjectNode txnSendOffsets(JsonNode cmd) throws Exception {
    KafkaProducer<String, String> producer = txnProducer(cmd);
    String consumerHandle = ClientConfig.required(cmd, "consumer_handle");
    Session s = sessions.get(consumerHandle);
    if (s == null) throw new DriverException("UNKNOWN", "no open consumer session with handle `" + consumerHandle + "`");
    Map<TopicPartition, OffsetAndMetadata> offsets = new LinkedHashMap<>();
    for (JsonNode o : array(cmd, "offsets")) {
      offsets.put(new TopicPartition(ClientConfig.required(o, "topic"), o.path("partition").asInt()),
          new OffsetAndMetadata(Long.parseLong(ClientConfig.required(o, "offset"))));
    }
    ConsumerGroupMetadata group = s.consumer.groupMetadata();
    producer.sendOffsetsToTransaction(offsets, group);
    return json.createObjectNode();
  }

  private ObjectNode txnCommit(JsonNode cmd) {
    txnProducer(cmd).commitTransaction();
    return json.createObjectNode();
  }

  private ObjectNode txnAbort(JsonNode cmd) {
    txnProducer(cmd).abortTransaction();
    return json.createObjectNode();
  }

  private ObjectNode txnProducerClose(JsonNode cmd) {
    KafkaProducer<String, String> p = txnProducers.remove(ClientConfig.required(cmd, "handle"));
    if (p != null) p.close(CLOSE_TIMEOUT);
    return json.createObjectNode();
  }

  // ---- plumbing ------------------------------------------------------------------------------

  /** A consumed record in PROTOCOL.md's shape (offset and timestamp as decimal strings). */
  private static void putRecord(ArrayNode arr, ConsumerRecord<String, String> r) {
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

// KafkaJS 2.2.4, in process, used the way the seed shows it.
import { createRequire } from 'node:module';
import { CompressionTypes, Partitioners, type ConfigResourceTypes, type Consumer, type Kafka, type KafkaMessage, type Message, type Producer } from 'kafkajs';

// ConfigResourceTypes.TOPIC. (The enum is not a named export Node's ESM loader sees in KafkaJS's CommonJS build.)
const TOPIC_RESOURCE = 2 as ConfigResourceTypes;
import { canonicalFromNodeCode, ClientError, kafkaErrorName, type CanonicalCode } from '../../errors/canonical.js';
import { recordRetry } from '../../util/retry-log.js';
import { withTimeout, WaitTimeoutError } from '../../util/wait.js';
import { bufferedSession } from '../sessions.js';
import { distinctRecords, resumeOffsets } from '../consume-count.js';
import type { Capability, ClientDriver, Compression, Connection, ConsumeRequest, ConsumerSession, InRecord, IsolationLevel, OpenConsumerRequest, OutRecord, ProduceOptions, ProducedRecord, TopicPartition, TransactionalProducer } from '../types.js';
import { kafkaJs } from './connection.js';

import { apiName, type ApiRange } from '../../protocol/api-versions.js';
const version = (createRequire(import.meta.url)('kafkajs/package.json') as { version: string }).version;

function connect(conn: Connection, retries = 2): Kafka {
  return kafkaJs(conn.target, {
    protocol: conn.protocol, principal: conn.principal, password: conn.password, username: conn.username,
    saslMechanism: conn.saslMechanism, sasl: conn.sasl, listener: conn.listener, tlsServerName: conn.tlsServerName,
    verifyTls: conn.verifyTls, caPemPath: conn.caPemPath, retries, clientId: 'kop-conformance-kafkajs',
  });
}

/** Maps a KafkaJS error (possibly wrapped in retries) to a canonical code. */
export function kafkaJsCanonical(err: unknown): CanonicalCode {
  let e = err as { name?: string; type?: string; code?: string; cause?: unknown; originalError?: unknown; message?: string } | undefined;
  for (let depth = 0; e && depth < 5; depth++) {
    if (e instanceof WaitTimeoutError) return 'TIMEOUT';
    if (e.name === 'KafkaJSSASLAuthenticationError') return 'SASL_AUTHENTICATION_FAILED';
    // A broker error code KafkaJS 2.2.4 has no name for (PRODUCER_FENCED, 90): the protocol's name by number.
    if (e.type === 'KAFKAJS_UNKNOWN_ERROR_CODE') {
      const name = kafkaErrorName(Number(/Unknown error code (\d+)/.exec(e.message ?? '')?.[1]));
      if (name) return name;
    }
    if (e.type && /^[A-Z_]+$/.test(e.type)) return e.type;
    const fromNode = canonicalFromNodeCode(e.code);
    if (fromNode) return fromNode;
    if (e.name === 'KafkaJSConnectionError' && /timeout/i.test(e.message ?? '')) return 'TIMEOUT';
    if (e.name === 'KafkaJSConnectionClosedError') return 'CONNECTION_CLOSED';
    if (e.name === 'KafkaJSRequestTimeoutError') return 'TIMEOUT';
    // createTopics/deleteTopics report per-topic errors inside a KafkaJSAggregateError.
    const next = e.originalError ?? e.cause ?? (e as { errors?: unknown[] }).errors?.[0];
    if (!next) break;
    e = next as typeof e;
  }
  return 'UNKNOWN';
}

/** Group-coordinator errors the Kafka protocol marks retriable (KafkaJS retries them too). */
const RETRIABLE_GROUP_ERRORS = new Set(['GROUP_LOAD_IN_PROGRESS', 'COORDINATOR_LOAD_IN_PROGRESS', 'GROUP_COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR_FOR_GROUP', 'NOT_COORDINATOR', 'REBALANCE_IN_PROGRESS']);

/**
 * KafkaJS restarts a consumer by itself after a retriable error (restartOnFailure): that is its
 * documented recovery, so the crash is recorded as a retry instead of failing the call. Bounded:
 * the third restart of one consumer fails it.
 */
function kafkaJsRestarts(payload: { error: Error; restart?: boolean }, nth: number): boolean {
  const code = kafkaJsCanonical(payload.error);
  if (!payload.restart || !RETRIABLE_GROUP_ERRORS.has(code) || nth > 2) return false;
  recordRetry(`${code}: KafkaJS restarted its consumer (${payload.error.message})`);
  return true;
}

/**
 * Errors the Kafka protocol calls retriable that mean "the record was not written": a topic
 * auto-created a moment before whose partition the broker does not serve yet, or a leader that
 * moved. KafkaJS retries them itself, but only `retries` (2) times within about a second, which a
 * busy broker can outlast (CI saw UNKNOWN_TOPIC_OR_PARTITION on a just-created topic).
 */
const RESENDABLE = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_FOR_PARTITION', 'NOT_LEADER_OR_FOLLOWER']);

/** The whole send again, twice at most (1 s, then 2 s later), each recorded on the cell. */
export async function sendWithResend<T>(topic: string, send: () => Promise<T>, backoffMs = [1000, 2000]): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send();
    } catch (err) {
      if (!(err instanceof ClientError) || !RESENDABLE.has(err.code) || attempt >= backoffMs.length) throw err;
      recordRetry(`${err.code}: KafkaJS send to ${topic} sent again after ${backoffMs[attempt]} ms (${err.raw.slice(0, 120)})`);
      await new Promise((w) => setTimeout(w, backoffMs[attempt]));
    }
  }
}

async function translate<T>(what: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof ClientError) throw err;
    const raw = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new ClientError(kafkaJsCanonical(err), `${what}: ${raw}`, 'kafkajs');
  }
}

/** `topic/partition: count` of records read so far, for a timeout's message. */
function perPartition(rs: InRecord[]): string {
  const n = new Map<string, number>();
  for (const r of rs) n.set(`${r.topic}/${r.partition}`, (n.get(`${r.topic}/${r.partition}`) ?? 0) + 1);
  return n.size ? [...n].map(([k, v]) => `${k}: ${v}`).join(', ') : 'nothing';
}

const toStr = (b: Buffer | string | null | undefined): string | null => (b == null ? null : b.toString());

function inRecord(topic: string, partition: number, message: KafkaMessage): InRecord {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers ?? {})) {
    headers[k] = Array.isArray(v) ? v.map((x) => x.toString()).join(',') : (v?.toString() ?? '');
  }
  return { topic, partition, offset: message.offset, key: toStr(message.key), value: toStr(message.value), headers, timestamp: message.timestamp };
}

const toMessages = (records: OutRecord[]): Message[] =>
  records.map((r) => ({ key: r.key, value: r.value, headers: r.headers, partition: r.partition, timestamp: r.timestamp }));

/**
 * KafkaJS acknowledges a base offset per partition, not each record's partition: the default
 * partitioner's choice for each message is noted (the last attempt's, on a retry), and each
 * record's offset follows from its partition's base offset (records of one send are consecutive).
 */
function placementTracker() {
  const placed = new WeakMap<Message, number>();
  const partitioner = Partitioners.DefaultPartitioner();
  return {
    placed,
    createPartitioner: () => (args: Parameters<ReturnType<typeof Partitioners.DefaultPartitioner>>[0]) => {
      const p = partitioner(args);
      placed.set(args.message, p);
      return p;
    },
    offsets(topic: string, records: OutRecord[], messages: Message[], meta: { partition: number; baseOffset?: string }[]): ProducedRecord[] {
      const next = new Map(meta.map((m) => [m.partition, BigInt(m.baseOffset ?? '0')]));
      return records.map((r, i) => {
        const partition = r.partition ?? placed.get(messages[i]!) ?? meta[0]!.partition;
        const offset = next.get(partition) ?? 0n;
        next.set(partition, offset + 1n);
        return { topic, partition, offset: offset.toString() };
      });
    },
  };
}

/** KafkaJS's consumer option for an isolation level; absent: KafkaJS's own default (read_committed). */
const isolation = (level: IsolationLevel | undefined) => (level ? { readUncommitted: level === 'read_uncommitted' } : {});

/**
 * A transactional producer. KafkaJS sends InitProducerId on the first `transaction()`, not on
 * connect: opening begins and ends one empty transaction (no EndTxn is sent for it), so that the
 * producer is initialised, and an older one with the same id fenced, when open returns.
 */
async function openTransactional(kafka: Kafka, transactionalId: string, groupOf: (s: ConsumerSession) => string | undefined,
  track: (p: Producer) => void, release: (p: Producer) => Promise<void>): Promise<TransactionalProducer> {
  const placement = placementTracker();
  const producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 60_000,
    createPartitioner: placement.createPartitioner, allowAutoTopicCreation: true });
  track(producer);
  try {
    await translate('producer.connect', producer.connect());
    await translate('initTransactions (first transaction)', producer.transaction().then((t) => t.abort()));
  } catch (e) {
    await release(producer);
    throw e;
  }
  type Txn = Awaited<ReturnType<typeof producer.transaction>>;
  let txn: Txn | undefined;
  const open = (what: string): Txn => {
    if (!txn) throw new ClientError('UNKNOWN', `${what}: no transaction begun`, 'kafkajs');
    return txn;
  };
  return {
    async begin() {
      txn = await translate('producer.transaction', producer.transaction());
    },
    async send(topic, records) {
      const messages = toMessages(records);
      const meta = await translate('transaction.send', open('send').send({ topic, acks: -1, messages }));
      return placement.offsets(topic, records, messages, meta);
    },
    async sendOffsets(consumer, offsets) {
      const consumerGroupId = groupOf(consumer);
      if (!consumerGroupId) throw new Error('kafkajs: sendOffsets needs a consumer session opened on the same driver');
      const topics = [...new Set(offsets.map((o) => o.topic))].map((topic) => ({
        topic, partitions: offsets.filter((o) => o.topic === topic).map((o) => ({ partition: o.partition, offset: o.offset })),
      }));
      await translate('transaction.sendOffsets', open('sendOffsets').sendOffsets({ consumerGroupId, topics }));
    },
    async commit() {
      await translate('transaction.commit', open('commit').commit());
      txn = undefined;
    },
    async abort() {
      await translate('transaction.abort', open('abort').abort());
      txn = undefined;
    },
    close: () => release(producer),
  };
}

/**
 * A group member across calls: `run` pushes into a buffered session. The assignment is the one
 * of the member's last GROUP_JOIN (KafkaJS announces every completed join).
 */
/** Connection errors after which KafkaJS restarts a consumer by itself (KafkaJSConnectionError is retriable). */
const CONNECTION_LOST = new Set(['CONNECTION_REFUSED', 'CONNECTION_CLOSED']);
/** How long a session's member may be without its broker (restarting) before the session fails. */
const SESSION_RECONNECT_BOUND_MS = 90_000;

async function openSession(consumer: Consumer, req: OpenConsumerRequest, release: () => Promise<void>): Promise<ConsumerSession> {
  let assignment: TopicPartition[] = [];
  const session = bufferedSession({
    assignment: () => assignment,
    commit: (offsets) => translate('commitOffsets', consumer.commitOffsets(offsets)),
    seek: async (topic, partition, offset) => consumer.seek({ topic, partition, offset }),
    close: release,
    translate: (err) => translate('poll', Promise.reject(err)),
  });
  // A member outlives a broker restart the way KafkaJS recovers by itself (restartOnFailure): a
  // crash on a lost connection is left to KafkaJS's own restart, for at most
  // SESSION_RECONNECT_BOUND_MS from the first crash of a streak; the streak is recorded on the cell.
  let lost: { since: number; crashes: number; code: string } | undefined;
  consumer.on(consumer.events.GROUP_JOIN, (ev) => {
    assignment = Object.entries(ev.payload.memberAssignment).flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition })));
    if (lost) recordRetry(`${lost.code}: KafkaJS restarted its consumer session ${lost.crashes}× on a lost connection and rejoined after ${((Date.now() - lost.since) / 1000).toFixed(1)} s`);
    lost = undefined;
  });
  // Restarts for retriable group errors, counted since the member last completed a join: a member
  // that rejoined has recovered (after a broker restart a coordinator still loading its offsets
  // partition answers GROUP_LOAD_IN_PROGRESS a few times before that).
  let restarts = 0;
  consumer.on(consumer.events.GROUP_JOIN, () => { restarts = 0; });
  consumer.on(consumer.events.CRASH, (ev) => {
    const code = kafkaJsCanonical(ev.payload.error);
    // KafkaJSNoBrokerAvailableError: no broker could be reached (every connection refused or
    // closed); KafkaJS calls it retriable and restarts on it, as on a refused connection.
    if (ev.payload.restart && (CONNECTION_LOST.has(code) || ev.payload.error.name === 'KafkaJSNoBrokerAvailableError')) {
      lost ??= { since: Date.now(), crashes: 0, code: CONNECTION_LOST.has(code) ? code : 'NO_BROKER_AVAILABLE' };
      lost.crashes++;
      if (Date.now() - lost.since <= SESSION_RECONNECT_BOUND_MS) return;
    }
    if (kafkaJsRestarts(ev.payload, ++restarts)) return;
    session.fail(ev.payload.error);
  });
  await translate('consumer.connect', consumer.connect());
  await translate('consumer.subscribe', consumer.subscribe({ topics: req.topics, fromBeginning: req.fromBeginning }));
  await translate('consumer.run', consumer.run({
    autoCommit: false,
    eachMessage: async ({ topic, partition, message }) => session.push(inRecord(topic, partition, message)),
  }));
  return session;
}

/**
 * The versions KafkaJS speaks, read from the installed library: its request table lists, per API
 * name, the versions it implements (an empty list: not implemented); apiKeys maps names to keys.
 */
export function kafkaJsApiVersions(): ApiRange[] {
  const req = createRequire(import.meta.url);
  const keys = req('kafkajs/src/protocol/requests/apiKeys.js') as Record<string, number>;
  const requests = req('kafkajs/src/protocol/requests/index.js') as { requests: Record<string, { versions: string[] }> };
  return Object.entries(requests.requests).flatMap(([name, def]) => {
    const versions = def.versions.map(Number).filter((v) => Number.isInteger(v));
    const key = keys[name];
    if (key === undefined || !versions.length) return [];
    return [{ key, name: apiName(key), min: Math.min(...versions), max: Math.max(...versions) }];
  }).sort((a, b) => a.key - b.key);
}

export function createKafkaJsDriver(): ClientDriver {
  const open = new Set<{ disconnect(): Promise<void> }>();
  const track = <T extends { disconnect(): Promise<void> }>(c: T): T => (open.add(c), c);
  const release = async (c: { disconnect(): Promise<void> }) => {
    open.delete(c);
    await c.disconnect().catch(() => undefined);
  };
  // KafkaJS ships only the GZIP codec; snappy/lz4/zstd need codec packages it does not bundle.
  const capabilities = new Set<Capability>(['headers', 'admin.createTopics', 'admin.deleteTopics', 'groups.commit', 'tls.serverName',
    'produce.acks', 'produce.idempotent', 'compression.gzip', 'timestamps', 'commit.auto',
    'admin.listTopics', 'admin.describeTopics', 'admin.describeConfigs', 'admin.groups', 'admin.committedOffsets', 'groups.session', 'consumer.seek', 'api.versions',
    'transactions']);
  const sessionGroups = new WeakMap<ConsumerSession, string>();
  const withAdmin = async <T>(conn: Connection, what: string, fn: (admin: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> => {
    const admin = track(connect(conn).admin());
    try {
      return await translate(what, admin.connect().then(() => fn(admin)));
    } finally {
      await release(admin);
    }
  };
  const codec: Partial<Record<Compression, CompressionTypes>> = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP };

  return {
    id: 'kafkajs',
    version,
    capabilities,
    async clientApiVersions() {
      return kafkaJsApiVersions();
    },
    async checkLogin(conn) {
      const admin = track(connect(conn, 0).admin());
      try {
        await translate('login', withTimeout('KafkaJS login and metadata round trip', 20_000, (async () => {
          await admin.connect();
          await admin.describeCluster();
        })()));
      } finally {
        await release(admin);
      }
    },
    async createTopics(conn, topics) {
      const admin = track(connect(conn).admin());
      try {
        await translate('createTopics', admin.connect().then(() => admin.createTopics({
          waitForLeaders: true,
          topics: topics.map((t) => ({ topic: t.name, numPartitions: t.partitions })),
        })));
      } finally {
        await release(admin);
      }
    },
    async produce(conn, topic, records: OutRecord[], opts: ProduceOptions = {}): Promise<ProducedRecord[]> {
      const compression = codec[opts.compression ?? 'none'];
      if (compression === undefined) throw new ClientError('UNSUPPORTED_SETTING', `produce: kafkajs has no ${opts.compression} codec`, 'kafkajs');
      const placement = placementTracker();
      const producer = track(connect(conn).producer({
        createPartitioner: placement.createPartitioner,
        allowAutoTopicCreation: true,
        ...(opts.idempotent ? { idempotent: true, maxInFlightRequests: 1 } : {}),
      }));
      try {
        await translate('producer.connect', producer.connect());
        const acks = opts.acks ?? -1;
        const messages = toMessages(records);
        const meta = await sendWithResend(topic, () => translate('producer.send', producer.send({ topic, acks, compression, messages })));
        if (acks === 0) return records.map((r, i) => ({ topic, partition: r.partition ?? placement.placed.get(messages[i]!) ?? -1, offset: '-1' }));
        return placement.offsets(topic, records, messages, meta);
      } finally {
        await release(producer);
      }
    },
    async consume(conn, req: ConsumeRequest): Promise<InRecord[]> {
      // A short fetch wait: disconnect waits for the fetch in flight, 5 s by default.
      // KafkaJS's own session timeout (30 s), not the 10 s of the group sessions below: KafkaJS
      // heartbeats from its fetch loop, in the test worker's event loop, and a busy machine held
      // that loop past 10 s (soak under stress-ng while Pulsar started, load 19: two consumers in
      // two workers evicted at once "on heartbeat expiration" 12 s after their assignment, then
      // rejoined and read the topic again from its start, so the count was reached with a
      // duplicate and the last record unread). A one-shot consume leaves its group on close, so
      // the longer timeout costs nothing unless a consumer dies.
      const consumer = track(connect(conn).consumer({ groupId: req.groupId, sessionTimeout: 30_000, heartbeatInterval: 1000, maxWaitTimeInMs: 250, ...isolation(req.isolationLevel) }));
      const mode = req.commit ?? 'sync';
      if (mode === 'async') throw new ClientError('UNSUPPORTED_SETTING', 'consume: kafkajs has no asynchronous commit distinct from its synchronous one', 'kafkajs');
      const got: InRecord[] = [];
      const distinct = distinctRecords();
      let restarts = 0;
      // What a timeout reports besides the count: the group's assignment as KafkaJS saw it.
      let assigned = 'no group join seen';
      consumer.on(consumer.events.GROUP_JOIN, (ev) => { assigned = `assigned ${JSON.stringify(ev.payload.memberAssignment)}`; });
      // timeoutMs bounds the whole call, connecting included (a broker that does not answer held
      // connect() for 45 s: 15 s request timeout, 3 retries).
      const deadline = Date.now() + req.timeoutMs;
      const left = () => Math.max(1, deadline - Date.now());
      try {
        await translate('consumer.connect', withTimeout('KafkaJS consumer connect', left(), consumer.connect()));
        await translate('consumer.subscribe', withTimeout('KafkaJS consumer subscribe', left(), consumer.subscribe({ topics: req.topics, fromBeginning: req.fromBeginning })));
        await translate('consume', withTimeout(`${req.count} record(s) from ${req.topics.join(', ')} (group ${req.groupId})`, left(),
          new Promise<void>((resolveDone, reject) => {
            consumer.on(consumer.events.CRASH, (ev) => {
              if (kafkaJsRestarts(ev.payload, ++restarts)) return;
              reject(ev.payload.error);
            });
            consumer.run({
              autoCommit: mode === 'auto',
              eachMessage: async ({ topic, partition, message }) => {
                // Past `count`, nothing more is taken (or, with auto-commit, acknowledged).
                if (distinct.size >= req.count) {
                  consumer.pause(req.topics.map((t) => ({ topic: t })));
                  return;
                }
                const r = inRecord(topic, partition, message);
                got.push(r);
                if (distinct.add(r) >= req.count) {
                  consumer.pause(req.topics.map((t) => ({ topic: t })));
                  resolveDone();
                }
              },
            }).catch(reject);
          })));
        if (mode === 'sync') {
          await translate('commitOffsets', consumer.commitOffsets(resumeOffsets(got).map((o) => ({ ...o, offset: o.offset.toString() }))));
        }
        return got;
      } catch (err) {
        if (err instanceof ClientError && err.code === 'TIMEOUT') {
          throw new ClientError('TIMEOUT', `${err.raw} (got ${got.length}: ${perPartition(got)}; ${assigned})`, 'kafkajs');
        }
        throw err;
      } finally {
        await release(consumer);
      }
    },
    async openConsumer(conn, req) {
      const consumer = track(connect(conn).consumer({ groupId: req.groupId, sessionTimeout: 10_000, rebalanceTimeout: 30_000, heartbeatInterval: 1000, maxWaitTimeInMs: 250,
        ...isolation(req.isolationLevel) }));
      try {
        const session = await openSession(consumer, req, () => release(consumer));
        sessionGroups.set(session, req.groupId);
        return session;
      } catch (e) {
        await release(consumer);
        throw e;
      }
    },
    openTransactionalProducer: (conn, transactionalId) => openTransactional(connect(conn), transactionalId, (s) => sessionGroups.get(s), track, release),
    deleteTopics: (conn, topics) => withAdmin(conn, 'deleteTopics', (a) => a.deleteTopics({ topics, timeout: 30_000 })),
    listTopics: (conn) => withAdmin(conn, 'listTopics', (a) => a.listTopics()),
    describeTopics: (conn, topics) => withAdmin(conn, 'fetchTopicMetadata', async (a) => {
      const meta = await a.fetchTopicMetadata({ topics });
      return topics.map((name) => ({ name, partitions: meta.topics.find((t) => t.name === name)?.partitions.length ?? 0 }));
    }),
    describeTopicConfig: (conn, topic) => withAdmin(conn, 'describeConfigs', async (a) => {
      const r = await a.describeConfigs({ resources: [{ type: TOPIC_RESOURCE, name: topic }], includeSynonyms: false });
      return Object.fromEntries((r.resources[0]?.configEntries ?? []).map((e) => [e.configName, e.configValue ?? null]));
    }),
    listGroups: (conn) => withAdmin(conn, 'listGroups', async (a) => (await a.listGroups()).groups.map((g) => g.groupId)),
    describeGroup: (conn, groupId) => withAdmin(conn, 'describeGroups', async (a) => {
      const g = (await a.describeGroups([groupId])).groups[0];
      return { groupId, state: g?.state ?? 'Dead', members: g?.members.length ?? 0 };
    }),
    committedOffsets: (conn, groupId) => withAdmin(conn, 'fetchOffsets', async (a) => {
      const byTopic = await a.fetchOffsets({ groupId });
      return byTopic.flatMap((t) => t.partitions.filter((p) => p.offset !== '-1').map((p) => ({ topic: t.topic, partition: p.partition, offset: p.offset })));
    }),
    async close() {
      await Promise.all([...open].map(release));
    },
  };
}

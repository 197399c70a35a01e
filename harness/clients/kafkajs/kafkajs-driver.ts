// KafkaJS 2.2.4, in process, used the way the seed shows it.
import { createRequire } from 'node:module';
import { CompressionTypes, type ConfigResourceTypes, type Consumer, type Kafka, type KafkaMessage } from 'kafkajs';

// ConfigResourceTypes.TOPIC. (The enum is not a named export Node's ESM loader sees in KafkaJS's CommonJS build.)
const TOPIC_RESOURCE = 2 as ConfigResourceTypes;
import { canonicalFromNodeCode, ClientError, type CanonicalCode } from '../../errors/canonical.js';
import { withTimeout, WaitTimeoutError } from '../../util/wait.js';
import { bufferedSession, nextOffsets } from '../sessions.js';
import type { Capability, ClientDriver, Compression, Connection, ConsumeRequest, ConsumerSession, InRecord, OpenConsumerRequest, OutRecord, ProduceOptions, ProducedRecord, TopicPartition } from '../types.js';
import { kafkaJs } from './connection.js';

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
    if (e.type && /^[A-Z_]+$/.test(e.type)) return e.type;
    const fromNode = canonicalFromNodeCode(e.code);
    if (fromNode) return fromNode;
    if (e.name === 'KafkaJSConnectionError' && /timeout/i.test(e.message ?? '')) return 'TIMEOUT';
    if (e.name === 'KafkaJSConnectionClosedError') return 'CONNECTION_CLOSED';
    if (e.name === 'KafkaJSRequestTimeoutError') return 'TIMEOUT';
    const next = e.originalError ?? e.cause;
    if (!next) break;
    e = next as typeof e;
  }
  return 'UNKNOWN';
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

const toStr = (b: Buffer | string | null | undefined): string | null => (b == null ? null : b.toString());

function inRecord(topic: string, partition: number, message: KafkaMessage): InRecord {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers ?? {})) {
    headers[k] = Array.isArray(v) ? v.map((x) => x.toString()).join(',') : (v?.toString() ?? '');
  }
  return { topic, partition, offset: message.offset, key: toStr(message.key), value: toStr(message.value), headers, timestamp: message.timestamp };
}

/**
 * A group member across calls: `run` pushes into a buffered session. The assignment is the one
 * of the member's last GROUP_JOIN (KafkaJS announces every completed join).
 */
async function openSession(consumer: Consumer, req: OpenConsumerRequest, release: () => Promise<void>): Promise<ConsumerSession> {
  let assignment: TopicPartition[] = [];
  const session = bufferedSession({
    assignment: () => assignment,
    commit: (offsets) => translate('commitOffsets', consumer.commitOffsets(offsets)),
    seek: async (topic, partition, offset) => consumer.seek({ topic, partition, offset }),
    close: release,
    translate: (err) => translate('poll', Promise.reject(err)),
  });
  consumer.on(consumer.events.GROUP_JOIN, (ev) => {
    assignment = Object.entries(ev.payload.memberAssignment).flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition })));
  });
  consumer.on(consumer.events.CRASH, (ev) => session.fail(ev.payload.error));
  await translate('consumer.connect', consumer.connect());
  await translate('consumer.subscribe', consumer.subscribe({ topics: req.topics, fromBeginning: req.fromBeginning }));
  await translate('consumer.run', consumer.run({
    autoCommit: false,
    eachMessage: async ({ topic, partition, message }) => session.push(inRecord(topic, partition, message)),
  }));
  return session;
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
    'admin.listTopics', 'admin.describeTopics', 'admin.describeConfigs', 'admin.groups', 'admin.committedOffsets', 'groups.session', 'consumer.seek']);
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
      const producer = track(connect(conn).producer({
        allowAutoTopicCreation: true,
        ...(opts.idempotent ? { idempotent: true, maxInFlightRequests: 1 } : {}),
      }));
      try {
        await translate('producer.connect', producer.connect());
        const acks = opts.acks ?? -1;
        const meta = await translate('producer.send', producer.send({
          topic,
          acks,
          compression,
          messages: records.map((r) => ({ key: r.key, value: r.value, headers: r.headers, partition: r.partition, timestamp: r.timestamp })),
        }));
        if (acks === 0) return records.map((r) => ({ topic, partition: r.partition ?? -1, offset: '-1' }));
        // KafkaJS reports the base offset per partition; records of one send are consecutive.
        const next = new Map(meta.map((m) => [m.partition, BigInt(m.baseOffset ?? '0')]));
        return records.map((r) => {
          const partition = r.partition ?? meta[0]!.partition;
          const offset = next.get(partition) ?? 0n;
          next.set(partition, offset + 1n);
          return { topic, partition, offset: offset.toString() };
        });
      } finally {
        await release(producer);
      }
    },
    async consume(conn, req: ConsumeRequest): Promise<InRecord[]> {
      // A short fetch wait: disconnect waits for the fetch in flight, 5 s by default.
      const consumer = track(connect(conn).consumer({ groupId: req.groupId, sessionTimeout: 10_000, heartbeatInterval: 1000, maxWaitTimeInMs: 250 }));
      const mode = req.commit ?? 'sync';
      if (mode === 'async') throw new ClientError('UNSUPPORTED_SETTING', 'consume: kafkajs has no asynchronous commit distinct from its synchronous one', 'kafkajs');
      const got: InRecord[] = [];
      try {
        await translate('consumer.connect', consumer.connect());
        await translate('consumer.subscribe', consumer.subscribe({ topics: req.topics, fromBeginning: req.fromBeginning }));
        await translate('consume', withTimeout(`${req.count} record(s) from ${req.topics.join(', ')} (group ${req.groupId})`, req.timeoutMs,
          new Promise<void>((resolveDone, reject) => {
            consumer.on(consumer.events.CRASH, (ev) => reject(ev.payload.error));
            consumer.run({
              autoCommit: mode === 'auto',
              eachMessage: async ({ topic, partition, message }) => {
                // Past `count`, nothing more is taken (or, with auto-commit, acknowledged).
                if (got.length >= req.count) {
                  consumer.pause(req.topics.map((t) => ({ topic: t })));
                  return;
                }
                got.push(inRecord(topic, partition, message));
                if (got.length >= req.count) {
                  consumer.pause(req.topics.map((t) => ({ topic: t })));
                  resolveDone();
                }
              },
            }).catch(reject);
          })));
        if (mode === 'sync') {
          await translate('commitOffsets', consumer.commitOffsets(nextOffsets(got)));
        }
        return got;
      } finally {
        await release(consumer);
      }
    },
    async openConsumer(conn, req) {
      const consumer = track(connect(conn).consumer({ groupId: req.groupId, sessionTimeout: 10_000, rebalanceTimeout: 30_000, heartbeatInterval: 1000, maxWaitTimeInMs: 250 }));
      try {
        return await openSession(consumer, req, () => release(consumer));
      } catch (e) {
        await release(consumer);
        throw e;
      }
    },
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

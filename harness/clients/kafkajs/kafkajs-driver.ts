// KafkaJS 2.2.4, in process, used the way the seed shows it.
import { createRequire } from 'node:module';
import { CompressionTypes, type Kafka } from 'kafkajs';
import { canonicalFromNodeCode, ClientError, type CanonicalCode } from '../../errors/canonical.js';
import { withTimeout, WaitTimeoutError } from '../../util/wait.js';
import type { Capability, ClientDriver, Compression, Connection, ConsumeRequest, InRecord, OutRecord, ProduceOptions, ProducedRecord } from '../types.js';
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

export function createKafkaJsDriver(): ClientDriver {
  const open = new Set<{ disconnect(): Promise<void> }>();
  const track = <T extends { disconnect(): Promise<void> }>(c: T): T => (open.add(c), c);
  const release = async (c: { disconnect(): Promise<void> }) => {
    open.delete(c);
    await c.disconnect().catch(() => undefined);
  };
  // KafkaJS ships only the GZIP codec; snappy/lz4/zstd need codec packages it does not bundle.
  const capabilities = new Set<Capability>(['headers', 'admin.createTopics', 'admin.deleteTopics', 'groups.commit', 'tls.serverName',
    'produce.acks', 'produce.idempotent', 'compression.gzip', 'timestamps', 'commit.auto']);
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
                const headers: Record<string, string> = {};
                for (const [k, v] of Object.entries(message.headers ?? {})) {
                  headers[k] = Array.isArray(v) ? v.map((x) => x.toString()).join(',') : (v?.toString() ?? '');
                }
                got.push({ topic, partition, offset: message.offset, key: toStr(message.key), value: toStr(message.value), headers, timestamp: message.timestamp });
                if (got.length >= req.count) {
                  consumer.pause(req.topics.map((t) => ({ topic: t })));
                  resolveDone();
                }
              },
            }).catch(reject);
          })));
        if (mode === 'sync') {
          // Kafka's convention: the committed offset is the next one to read.
          const next = new Map<string, { topic: string; partition: number; offset: string }>();
          for (const r of got) next.set(`${r.topic}/${r.partition}`, { topic: r.topic, partition: r.partition, offset: (BigInt(r.offset) + 1n).toString() });
          await translate('commitOffsets', consumer.commitOffsets([...next.values()]));
        }
        return got;
      } finally {
        await release(consumer);
      }
    },
    async close() {
      await Promise.all([...open].map(release));
    },
  };
}

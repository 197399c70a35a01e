// kafka-node 5.0.0, in process, used the way the seed shows it: a KafkaClient with sasl/ssl
// options, createTopics before consuming, HighLevelProducer, and a Consumer with a groupId.
// kafka-node predates record headers: it lacks the `headers` capability.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { ClientError, canonicalFromNodeCode, kafkaErrorName, type CanonicalCode } from '../../errors/canonical.js';
import { bootstrap, listenerFor } from '../../targets/types.js';
import { withTimeout, WaitTimeoutError } from '../../util/wait.js';
import type { Capability, ClientDriver, Connection, ConsumeRequest, InRecord, OutRecord, ProducedRecord } from '../types.js';

const require = createRequire(import.meta.url);
// kafka-node ships no types; this is the part of its API the driver uses.
interface KnClient {
  on(ev: 'ready' | 'error' | 'socket_error', cb: (err?: Error) => void): void;
  loadMetadataForTopics(topics: string[], cb: (err: Error | null, res: unknown) => void): void;
  createTopics(topics: { topic: string; partitions: number; replicationFactor: number }[], cb: (err: Error | null, res: { topic: string; error: string }[]) => void): void;
  close(cb?: () => void): void;
}
interface KnProducer {
  on(ev: 'ready' | 'error', cb: (err?: Error) => void): void;
  send(payloads: unknown[], cb: (err: Error | null, data: Record<string, Record<string, number>>) => void): void;
  close(cb?: () => void): void;
}
interface KnMessage {
  topic: string; partition: number; offset: number; key: string | Buffer | null; value: string | Buffer | null;
}
interface KnConsumer {
  on(ev: 'message', cb: (m: KnMessage) => void): void;
  on(ev: 'error' | 'offsetOutOfRange', cb: (err: Error) => void): void;
  commit(force: boolean, cb: (err: Error | null) => void): void;
  close(commit: boolean, cb: (err?: Error) => void): void;
}
interface KafkaNode {
  KafkaClient: new (opts: Record<string, unknown>) => KnClient;
  HighLevelProducer: new (client: KnClient, opts?: Record<string, unknown>) => KnProducer;
  Consumer: new (client: KnClient, payloads: unknown[], opts: Record<string, unknown>) => KnConsumer;
  KeyedMessage: new (key: string | null, value: string | null) => unknown;
}
const kafka = require('kafka-node') as KafkaNode;
const version = (require('kafka-node/package.json') as { version: string }).version;

export function kafkaNodeCanonical(err: unknown): CanonicalCode {
  const e = err as { name?: string; code?: string; message?: string; errorCode?: number } | undefined;
  if (!e) return 'UNKNOWN';
  if (e instanceof WaitTimeoutError || e.name === 'TimeoutError') return 'TIMEOUT';
  // kafka-node keeps the protocol's numeric error code on SASL errors.
  const byNumber = kafkaErrorName(e.errorCode);
  if (byNumber) return byNumber;
  if (e.name === 'BrokerNotAvailableError' && /socket closed/i.test(e.message ?? '')) return 'CONNECTION_CLOSED';
  if (e.name === 'SaslAuthenticationError' || /SASL|Authentication failed/i.test(e.message ?? '')) return 'SASL_AUTHENTICATION_FAILED';
  if (e.name === 'TopicsNotExistError') return 'UNKNOWN_TOPIC_OR_PARTITION';
  if (e.name === 'MessageSizeTooLargeError') return 'RECORD_TOO_LARGE';
  return canonicalFromNodeCode(e.code) ?? (/^[A-Z_]+$/.test(e.message ?? '') ? e.message! : 'UNKNOWN');
}

function clientOptions(conn: Connection): Record<string, unknown> {
  const l = listenerFor(conn.target, conn.protocol);
  const verify = conn.verifyTls ?? conn.target.tls.verify;
  const ca = conn.caPemPath ?? conn.target.tls.caPemPath;
  return {
    kafkaHost: bootstrap(l),
    clientId: 'kop-conformance-kafka-node',
    connectTimeout: 5000,
    requestTimeout: 15000,
    connectRetryOptions: { retries: 0 },
    idleConnection: 60_000,
    ...(conn.sasl === false ? {} : {
      sasl: { mechanism: (conn.saslMechanism ?? 'PLAIN').toLowerCase(), username: conn.username ?? conn.principal.username, password: conn.password ?? conn.principal.password },
    }),
    ...(conn.protocol === 'SASL_SSL'
      ? { ssl: true, sslOptions: verify ? { rejectUnauthorized: true, ...(ca ? { ca: [readFileSync(ca, 'utf8')] } : {}) } : { rejectUnauthorized: false } }
      : {}),
  };
}

/** Creates a client and waits until it is connected and authenticated, or fails. */
function readyClient(conn: Connection, what: string): Promise<KnClient> {
  const client = new kafka.KafkaClient(clientOptions(conn));
  const p = new Promise<KnClient>((resolveReady, reject) => {
    client.on('error', (err) => reject(err));
    client.on('socket_error', (err) => reject(err));
    client.loadMetadataForTopics([], (err) => (err ? reject(err) : resolveReady(client)));
  });
  return guard(what, 20_000, p, () => client.close());
}

async function guard<T>(what: string, ms: number, p: Promise<T>, onFail?: () => void): Promise<T> {
  try {
    return await withTimeout(`kafka-node ${what}`, ms, p);
  } catch (err) {
    onFail?.();
    if (err instanceof ClientError) throw err;
    const raw = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new ClientError(kafkaNodeCanonical(err), `${what}: ${raw}`, 'kafka-node');
  }
}

const closeClient = (c: KnClient) => new Promise<void>((r) => c.close(() => r()));
const str = (b: string | Buffer | null | undefined): string | null => (b == null ? null : b.toString());

export function createKafkaNodeDriver(): ClientDriver {
  const open = new Set<KnClient>();
  const capabilities = new Set<Capability>(['admin.createTopics', 'groups.commit', 'requires.createTopicsFirst']);
  async function withClient<T>(conn: Connection, what: string, fn: (c: KnClient) => Promise<T>): Promise<T> {
    const c = await readyClient(conn, what);
    open.add(c);
    try {
      return await fn(c);
    } finally {
      open.delete(c);
      await closeClient(c);
    }
  }

  return {
    id: 'kafka-node',
    version,
    capabilities,
    async checkLogin(conn) {
      await withClient(conn, 'login', async () => undefined);
    },
    async createTopics(conn, topics) {
      await withClient(conn, 'createTopics', (c) => guard('createTopics', 30_000, new Promise<void>((resolveDone, reject) => {
        c.createTopics(topics.map((t) => ({ topic: t.name, partitions: t.partitions, replicationFactor: 1 })), (err, res) => {
          if (err) return reject(err);
          const bad = (res ?? []).filter((r) => r.error && !/already exists/i.test(r.error));
          return bad.length ? reject(new Error(bad.map((b) => `${b.topic}: ${b.error}`).join('; '))) : resolveDone();
        });
      })));
    },
    async produce(conn, topic, records: OutRecord[]): Promise<ProducedRecord[]> {
      return await withClient(conn, 'produce', async (c) => {
        const producer = new kafka.HighLevelProducer(c, { requireAcks: -1, ackTimeoutMs: 10_000, partitionerType: 3 });
        await guard('producer ready', 10_000, new Promise<void>((r, reject) => { producer.on('ready', () => r()); producer.on('error', reject); }));
        const out: ProducedRecord[] = [];
        // One record per request, so that each acknowledgement names its own offset.
        for (const r of records) {
          const data = await guard('producer.send', 20_000, new Promise<Record<string, Record<string, number>>>((resolveSend, reject) => {
            producer.send([{ topic, key: r.key ?? undefined, messages: [new kafka.KeyedMessage(r.key, r.value)], ...(r.partition !== undefined ? { partition: r.partition } : {}) }],
              (err, d) => (err ? reject(err) : resolveSend(d)));
          }));
          const [partition, offset] = Object.entries(data[topic] ?? {})[0] ?? [];
          if (partition === undefined) throw new ClientError('UNKNOWN', `producer.send: no acknowledgement for ${topic}`, 'kafka-node');
          out.push({ topic, partition: Number(partition), offset: String(offset) });
        }
        return out;
      });
    },
    async consume(conn, req: ConsumeRequest): Promise<InRecord[]> {
      return await withClient(conn, 'consume', async (c) => {
        const meta = await guard('metadata', 15_000, new Promise<unknown>((r, reject) =>
          c.loadMetadataForTopics(req.topics, (err, res) => (err ? reject(err) : r(res)))));
        const topicMeta = ((meta as [unknown, { metadata: Record<string, Record<string, unknown>> }])[1]?.metadata) ?? {};
        const payloads = req.topics.flatMap((t) => Object.keys(topicMeta[t] ?? { 0: {} }).map((p) => ({ topic: t, partition: Number(p), offset: 0 })));
        const consumer = new kafka.Consumer(c, payloads, { groupId: req.groupId, autoCommit: false, fromOffset: req.fromBeginning, encoding: 'utf8', keyEncoding: 'utf8' });
        const got: InRecord[] = [];
        try {
          await guard(`${req.count} record(s) from ${req.topics.join(', ')}`, req.timeoutMs, new Promise<void>((resolveDone, reject) => {
            consumer.on('error', reject);
            consumer.on('offsetOutOfRange', reject);
            consumer.on('message', (m) => {
              got.push({ topic: m.topic, partition: m.partition, offset: String(m.offset), key: str(m.key), value: str(m.value), headers: {} });
              if (got.length >= req.count) resolveDone();
            });
          }));
          await guard('commit', 10_000, new Promise<void>((r, reject) => consumer.commit(true, (err) => (err ? reject(err) : r()))));
          return got;
        } finally {
          await new Promise<void>((r) => consumer.close(false, () => r()));
        }
      });
    },
    async close() {
      await Promise.all([...open].map(closeClient));
      open.clear();
    },
  };
}

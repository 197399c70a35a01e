// @platformatic/kafka 1.x, in process: a maintained pure-JS client (2.x needs Node 22).
// Beyond the seed: it shows whether a current, strict client still works with the endpoint.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers, type ConnectionOptions } from '@platformatic/kafka';
import { canonicalFromNodeCode, ClientError, type CanonicalCode } from '../../errors/canonical.js';
import { bootstrap } from '../../targets/types.js';
import { withTimeout, WaitTimeoutError } from '../../util/wait.js';
import { bufferedSession } from '../sessions.js';
import { distinctRecords, resumeOffsets } from '../consume-count.js';
import { addressOf, type Capability, type ClientDriver, type Connection, type ConsumeRequest, type ConsumerSession, type InRecord, type OutRecord, type ProducedRecord } from '../types.js';

// The package exports only its entry point, so its package.json is read beside it.
const entry = createRequire(import.meta.url).resolve('@platformatic/kafka');
const version = (JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }).version;

/** Walks the error, its `cause` and aggregated `errors` for the most specific code. */
export function platformaticCanonical(err: unknown, depth = 0): CanonicalCode {
  const e = err as { code?: string; apiId?: string; cause?: unknown; errors?: unknown[]; message?: string } | undefined;
  if (!e || depth > 6) return 'UNKNOWN';
  if (e instanceof WaitTimeoutError) return 'TIMEOUT';
  if (e.apiId && /^[A-Z_]+$/.test(e.apiId)) return e.apiId;
  const nested = [e.cause, ...(e.errors ?? [])].filter(Boolean);
  for (const n of nested) {
    const c = platformaticCanonical(n, depth + 1);
    if (c !== 'UNKNOWN') return c;
  }
  if (e.code === 'PLT_KFK_AUTHENTICATION') return 'SASL_AUTHENTICATION_FAILED';
  if (e.code === 'PLT_KFK_TIMEOUT') return 'TIMEOUT';
  if (e.code === 'PLT_KFK_NETWORK' && /closed/i.test(e.message ?? '')) return 'CONNECTION_CLOSED';
  return canonicalFromNodeCode(e.code) ?? 'UNKNOWN';
}

function options(conn: Connection, clientId: string): ConnectionOptions & { clientId: string; bootstrapBrokers: string[]; retries: number } {
  const l = addressOf(conn);
  const verify = conn.verifyTls ?? conn.target.tls.verify;
  const ca = conn.caPemPath ?? conn.target.tls.caPemPath;
  return {
    clientId,
    bootstrapBrokers: [bootstrap(l)],
    connectTimeout: 5000,
    requestTimeout: 15000,
    retries: 1,
    ...(conn.sasl === false ? {} : {
      sasl: { mechanism: conn.saslMechanism ?? 'PLAIN', username: conn.username ?? conn.principal.username, password: conn.password ?? conn.principal.password },
    }),
    ...(conn.protocol === 'SASL_SSL'
      ? {
          tls: verify ? { rejectUnauthorized: true, ...(ca ? { ca: [readFileSync(ca, 'utf8')] } : {}) } : { rejectUnauthorized: false },
          ...(conn.tlsServerName ? { tlsServerName: conn.tlsServerName } : {}),
        }
      : {}),
  };
}

async function translate<T>(what: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof ClientError) throw err;
    const raw = err instanceof Error ? `${err.name}: ${err.message}${err.cause instanceof Error ? ` (cause: ${err.cause.message})` : ''}` : String(err);
    throw new ClientError(platformaticCanonical(err), `${what}: ${raw}`, 'platformatic-kafka');
  }
}

export function createPlatformaticDriver(): ClientDriver {
  const open = new Set<{ close(): Promise<void> }>();
  const track = <T extends { close(): Promise<void> }>(c: T): T => (open.add(c), c);
  const release = async (c: { close(): Promise<void> }) => {
    open.delete(c);
    await Promise.resolve(c.close()).catch(() => undefined);
  };
  // 1.x has no seek on a running consumer: consumer.seek is not announced.
  const capabilities = new Set<Capability>(['headers', 'admin.createTopics', 'admin.deleteTopics', 'groups.commit', 'tls.serverName',
    'admin.listTopics', 'admin.describeTopics', 'admin.describeConfigs', 'admin.groups', 'admin.committedOffsets', 'groups.session']);
  const withAdmin = async <T>(conn: Connection, what: string, fn: (admin: Admin) => Promise<T>): Promise<T> => {
    const admin = track(new Admin(options(conn, 'kop-conformance-platformatic')));
    try {
      return await translate(what, withTimeout(`@platformatic/kafka ${what}`, 30_000, fn(admin)));
    } finally {
      await release(admin);
    }
  };
  return {
    id: 'platformatic-kafka',
    deleteTopics: (conn, topics) => withAdmin(conn, 'deleteTopics', (a) => a.deleteTopics({ topics })),
    listTopics: (conn) => withAdmin(conn, 'listTopics', (a) => a.listTopics()),
    describeTopics: (conn, topics) => withAdmin(conn, 'metadata', async (a) => {
      const meta = await a.metadata({ topics });
      return topics.map((name) => ({ name, partitions: meta.topics.get(name)?.partitionsCount ?? 0 }));
    }),
    describeTopicConfig: (conn, topic) => withAdmin(conn, 'describeConfigs', async (a) => {
      const [d] = await a.describeConfigs({ resources: [{ resourceType: 2, resourceName: topic }] });
      return Object.fromEntries((d?.configs ?? []).map((c) => [c.name, c.value ?? null]));
    }),
    listGroups: (conn) => withAdmin(conn, 'listGroups', async (a) => [...(await a.listGroups()).keys()]),
    describeGroup: (conn, groupId) => withAdmin(conn, 'describeGroups', async (a) => {
      const g = (await a.describeGroups({ groups: [groupId] })).get(groupId);
      // The client upper-cases the broker's state (STABLE, PREPARING_REBALANCE): back to Stable, PreparingRebalance.
      const state = (g?.state ?? 'DEAD').toLowerCase().replace(/(^|_)([a-z])/g, (_m, _u: string, c: string) => c.toUpperCase());
      return { groupId, state, members: g?.members.size ?? 0 };
    }),
    committedOffsets: (conn, groupId) => withAdmin(conn, 'listConsumerGroupOffsets', async (a) => {
      const [g] = await a.listConsumerGroupOffsets({ groups: [groupId] });
      return (g?.topics ?? []).flatMap((t) => t.partitions.filter((p) => p.committedOffset >= 0n)
        .map((p) => ({ topic: t.name, partition: p.partitionIndex, offset: p.committedOffset.toString() })));
    }),
    async openConsumer(conn, req): Promise<ConsumerSession> {
      const consumer = track(new Consumer({
        ...options(conn, 'kop-conformance-platformatic'), groupId: req.groupId, deserializers: stringDeserializers,
        sessionTimeout: 10_000, heartbeatInterval: 1000, rebalanceTimeout: 30_000,
      }));
      try {
        const stream = await translate('consumer.consume', consumer.consume({
          topics: req.topics, autocommit: false, mode: 'committed', fallbackMode: req.fromBeginning ? 'earliest' : 'latest',
        }));
        const session = bufferedSession({
          assignment: () => (consumer.assignments ?? []).flatMap((a) => a.partitions.map((partition) => ({ topic: a.topic, partition }))),
          commit: (offsets) => translate('commit', consumer.commit({ offsets: offsets.map((o) => ({ ...o, offset: BigInt(o.offset), leaderEpoch: 0 })) })),
          seek: () => Promise.reject(new ClientError('UNSUPPORTED_SETTING', 'seek: @platformatic/kafka 1.x has no seek on a running consumer', 'platformatic-kafka')),
          close: async () => {
            await stream.close().catch(() => undefined);
            await release(consumer);
          },
          translate: (err) => translate('poll', Promise.reject(err)),
        });
        stream.on('error', (e) => session.fail(e));
        stream.on('data', (m) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of m.headers) headers[String(k)] = String(v);
          session.push({ topic: m.topic, partition: m.partition, offset: m.offset.toString(), key: m.key ?? null, value: m.value ?? null, headers });
        });
        return session;
      } catch (e) {
        await release(consumer);
        throw e;
      }
    },
    version,
    capabilities,
    async checkLogin(conn) {
      const admin = track(new Admin(options(conn, 'kop-conformance-platformatic')));
      try {
        await translate('login', withTimeout('@platformatic/kafka login and metadata', 20_000, admin.metadata({ topics: [] })));
      } finally {
        await release(admin);
      }
    },
    async createTopics(conn, topics) {
      const admin = track(new Admin(options(conn, 'kop-conformance-platformatic')));
      try {
        for (const t of topics) {
          await translate('createTopics', admin.createTopics({ topics: [t.name], partitions: t.partitions, replicas: 1 }).catch((e: unknown) => {
            if (platformaticCanonical(e) === 'TOPIC_ALREADY_EXISTS') return;
            throw e;
          }));
        }
      } finally {
        await release(admin);
      }
    },
    async produce(conn, topic, records: OutRecord[]): Promise<ProducedRecord[]> {
      const producer = track(new Producer({ ...options(conn, 'kop-conformance-platformatic'), serializers: stringSerializers, autocreateTopics: true, acks: -1 }));
      try {
        const out: ProducedRecord[] = [];
        // One record per send, so each acknowledgement names its own offset.
        for (const r of records) {
          const res = await translate('producer.send', withTimeout('@platformatic/kafka send', 30_000, producer.send({
            messages: [{
              topic,
              key: r.key ?? undefined,
              value: r.value ?? undefined,
              ...(r.headers ? { headers: new Map(Object.entries(r.headers)) } : {}),
              ...(r.partition !== undefined ? { partition: r.partition } : {}),
            }],
          })));
          const o = res.offsets?.[0];
          if (!o) throw new ClientError('UNKNOWN', 'producer.send: no offset in the acknowledgement', 'platformatic-kafka');
          out.push({ topic: o.topic, partition: o.partition, offset: o.offset.toString() });
        }
        return out;
      } finally {
        await release(producer);
      }
    },
    async consume(conn, req: ConsumeRequest): Promise<InRecord[]> {
      const mode = req.commit ?? 'sync';
      if (mode === 'async' || mode === 'auto') {
        throw new ClientError('UNSUPPORTED_SETTING', `consume: the driver commits explicitly only (asked: ${mode})`, 'platformatic-kafka');
      }
      const consumer = track(new Consumer({
        ...options(conn, 'kop-conformance-platformatic'), groupId: req.groupId, deserializers: stringDeserializers,
        sessionTimeout: 10_000, heartbeatInterval: 1000,
      }));
      const got: InRecord[] = [];
      const distinct = distinctRecords();
      try {
        const stream = await translate('consumer.consume', consumer.consume({
          topics: req.topics, autocommit: false, mode: 'committed', fallbackMode: req.fromBeginning ? 'earliest' : 'latest',
        }));
        try {
          await translate('consume', withTimeout(`${req.count} record(s) from ${req.topics.join(', ')} (group ${req.groupId})`, req.timeoutMs,
            new Promise<void>((resolveDone, reject) => {
              stream.on('error', reject);
              stream.on('data', (m) => {
                if (distinct.size >= req.count) return;
                const headers: Record<string, string> = {};
                for (const [k, v] of m.headers) headers[String(k)] = String(v);
                const r = { topic: m.topic, partition: m.partition, offset: m.offset.toString(), key: m.key ?? null, value: m.value ?? null, headers };
                got.push(r);
                if (distinct.add(r) >= req.count) resolveDone();
              });
            })));
          // Kafka's convention: the committed offset is the next one to read.
          if (mode === 'sync') await translate('commit', consumer.commit({ offsets: resumeOffsets(got).map((o) => ({ ...o, leaderEpoch: 0 })) }));
        } finally {
          await stream.close().catch(() => undefined);
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

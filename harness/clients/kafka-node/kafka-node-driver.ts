// kafka-node 5.0.0, in process, used the way the seed shows it: a KafkaClient with sasl/ssl
// options, createTopics before consuming, HighLevelProducer, and a Consumer with a groupId.
// kafka-node predates record headers: it lacks the `headers` capability.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { ClientError, canonicalFromKafkaMessage, canonicalFromNodeCode, kafkaErrorName, type CanonicalCode } from '../../errors/canonical.js';
import { bootstrap } from '../../targets/types.js';
import { recordRetry } from '../../util/retry-log.js';
import { withTimeout, WaitTimeoutError } from '../../util/wait.js';
import { bufferedSession } from '../sessions.js';
import { distinctRecords, resumeOffsets } from '../consume-count.js';
import { addressOf, type Capability, type ClientDriver, type Connection, type ConsumeRequest, type ConsumerSession, type InRecord, type OutRecord, type ProducedRecord } from '../types.js';

const require = createRequire(import.meta.url);
// kafka-node ships no types; this is the part of its API the driver uses.
interface KnClient {
  on(ev: 'ready' | 'error' | 'socket_error', cb: (err?: Error) => void): void;
  /** Set once the client connected; kafka-node's admin calls refuse to run before. */
  ready?: boolean;
  loadMetadataForTopics(topics: string[], cb: (err: Error | null, res: unknown) => void): void;
  refreshMetadata(topics: string[], cb: (err?: Error | null) => void): void;
  coordinatorId?: string;
  sendGroupCoordinatorRequest(groupId: string, cb: (err: (Error & { errorCode?: number }) | null, res: { coordinatorId: number }) => void): void;
  sendOffsetCommitV2Request(group: string, generationId: number, memberId: string,
    payloads: { topic: string; partition: number; offset: number; metadata: string }[], cb: (err: Error | null, res: unknown) => void): void;
  createTopics(topics: { topic: string; partitions: number; replicationFactor: number }[], cb: (err: Error | null, res: { topic: string; error: string }[]) => void): void;
  getListGroups(cb: (err: Error | null, res: Record<string, string>) => void): void;
  getDescribeGroups(groups: string[], cb: (err: Error | null, res: Record<string, { state?: string; members?: unknown[]; error?: unknown }>) => void): void;
  describeConfigs(payload: { resources: { resourceType: string; resourceName: string; configNames: string[] | null }[]; includeSynonyms: boolean },
    cb: (err: Error | null, res: { resourceName: string; configEntries: { configName: string; configValue: string | null }[] }[]) => void): void;
  close(cb?: () => void): void;
}
interface KnProducer {
  ready?: boolean;
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
  close(commit: boolean, cb: (err?: Error) => void): void;
}
/** topic → partition → offset */
type OffsetMap = Record<string, Record<number, number>>;
interface KnOffset {
  fetchCommits(groupId: string, payloads: { topic: string; partition: number }[], cb: (err: Error | null, res: OffsetMap) => void): void;
  fetchLatestOffsets(topics: string[], cb: (err: Error | null, res: OffsetMap) => void): void;
  fetchEarliestOffsets(topics: string[], cb: (err: Error | null, res: OffsetMap) => void): void;
}
interface KnConsumerGroup {
  on(ev: 'message', cb: (m: KnMessage) => void): void;
  on(ev: 'error' | 'offsetOutOfRange', cb: (err: Error) => void): void;
  on(ev: 'rebalanced' | 'rebalancing' | 'connect', cb: () => void): void;
  /** The member's partitions and next fetch offsets; empty while rebalancing. */
  topicPayloads: { topic: string; partition: number; offset: number }[];
  sendOffsetCommitRequest(commits: { topic: string; partition: number; offset: number; metadata: string }[], cb: (err: Error | null) => void): void;
  setOffset(topic: string, partition: number, offset: number): void;
  pause(): void;
  resume(): void;
  /** kafka-node's own flag: a fetch request is in flight (cleared when it emits 'done'). */
  _isFetchPending?: boolean;
  once(ev: 'done', cb: () => void): void;
  close(force: boolean, cb: (err?: Error) => void): void;
}
interface KafkaNode {
  ConsumerGroup: new (opts: Record<string, unknown>, topics: string[]) => KnConsumerGroup;
  Offset: new (client: KnClient) => KnOffset;
  KafkaClient: new (opts: Record<string, unknown>) => KnClient;
  HighLevelProducer: new (client: KnClient, opts?: Record<string, unknown>) => KnProducer;
  Consumer: new (client: KnClient, payloads: unknown[], opts: Record<string, unknown>) => KnConsumer;
  KeyedMessage: new (key: string | null, value: string | null) => unknown;
}
const kafka = require('kafka-node') as KafkaNode;

/**
 * kafka-node 5.0.0 decodes an OffsetFetch response with `if (--topicNum === 0) end()`: a response
 * holding no topics never ends the loop, and the whole process spins forever, synchronously, so no
 * timeout can stop it (seen on KoP, which can answer OffsetFetch v1 with an empty topic array).
 * The driver checks the count first; such a response is recorded, decoded as "no offsets", and the
 * operation then fails with CLIENT_PROTOCOL_ERROR naming what happened instead of hanging the run.
 */
let emptyOffsetFetches = 0;
function guardEmptyOffsetFetch(): void {
  const protocol = require('kafka-node/lib/protocol/protocol') as Record<string, (resp: Buffer) => unknown>;
  const versions = require('kafka-node/lib/protocol/protocolVersions') as { apiMap: { offsetFetch: [unknown, (resp: Buffer) => unknown][] } };
  for (const name of ['decodeOffsetFetchResponse', 'decodeOffsetFetchV1Response']) {
    const original = protocol[name]!;
    const guarded = (resp: Buffer) => {
      // size (int32), correlation id (int32), topic count (int32)
      if (resp.length >= 12 && resp.readInt32BE(8) <= 0) {
        emptyOffsetFetches++;
        return {};
      }
      return original(resp);
    };
    protocol[name] = guarded;
    for (const pair of versions.apiMap.offsetFetch) if (pair[1] === original) pair[1] = guarded;
  }
}
guardEmptyOffsetFetch();

/** Throws when an OffsetFetch answer with no topics arrived since `before` (see guardEmptyOffsetFetch). */
function checkOffsetFetches(before: number, what: string): void {
  if (emptyOffsetFetches > before) {
    throw new ClientError('CLIENT_PROTOCOL_ERROR', `${what}: the endpoint answered OffsetFetch with no topics at all; kafka-node 5.0.0 `
      + 'loops forever decoding that (protocol.js decodeOffsetFetchV1Response), so the harness stopped it', 'kafka-node');
  }
}
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
  if (e.name === 'TopicsNotExistError' || /Topic\(s\) does not exist/.test(e.message ?? '')) return 'UNKNOWN_TOPIC_OR_PARTITION';
  if (e.name === 'MessageSizeTooLargeError' || /MessageSizeTooLarge/.test(e.message ?? '')) return 'MESSAGE_TOO_LARGE';
  return canonicalFromNodeCode(e.code) ?? (/^[A-Z_]+$/.test(e.message ?? '') ? e.message! : 'UNKNOWN');
}

function clientOptions(conn: Connection): Record<string, unknown> {
  const l = addressOf(conn);
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
      ? { ssl: true, sslOptions: verify
        ? { rejectUnauthorized: true, ...(ca ? { ca: [readFileSync(ca, 'utf8')] } : {}), ...(conn.tlsServerName ? { servername: conn.tlsServerName } : {}) }
        : { rejectUnauthorized: false } }
      : {}),
  };
}

/**
 * Looks up the group's coordinator, retrying COORDINATOR_NOT_AVAILABLE / COORDINATOR_LOAD_IN_PROGRESS
 * (retriable by the protocol; kafka-node itself does not retry them) within a bound, and pins it
 * on the client so that the group requests that follow go there.
 */
async function findCoordinator(c: KnClient, groupId: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await new Promise<{ err: (Error & { errorCode?: number }) | null; res?: { coordinatorId: number } }>((resolveFind) =>
      c.sendGroupCoordinatorRequest(groupId, (err, res) => resolveFind({ err, res })));
    if (!r.err && r.res) {
      c.coordinatorId = String(r.res.coordinatorId);
      return;
    }
    const retriable = r.err?.errorCode === 15 || r.err?.errorCode === 14;
    if (!retriable || Date.now() > deadline) {
      throw new ClientError(kafkaErrorName(r.err?.errorCode) ?? kafkaNodeCanonical(r.err), `findCoordinator: ${r.err?.message ?? 'no answer'}`, 'kafka-node');
    }
    await new Promise((w) => setTimeout(w, 300));
  }
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
  // Admin is kafka-node's Admin/KafkaClient calls; it has no topic deletion and no OffsetFetch
  // for all of a group's partitions, so it lacks admin.deleteTopics and admin.committedOffsets.
  const capabilities = new Set<Capability>(['admin.createTopics', 'groups.commit', 'requires.createTopicsFirst', 'tls.serverName',
    'admin.listTopics', 'admin.describeTopics', 'admin.describeConfigs', 'admin.groups', 'groups.session', 'consumer.seek']);
  const groups = new Set<KnConsumerGroup>();
  const closeGroup = (g: KnConsumerGroup) => {
    groups.delete(g);
    return new Promise<void>((r) => g.close(false, () => r()));
  };
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

  const call = <T>(what: string, fn: (cb: (err: Error | null, res: T) => void) => void) =>
    guard(what, 15_000, new Promise<T>((r, reject) => fn((err, res) => (err ? reject(err) : r(res)))));
  // kafka-node's group and config calls refuse to run until the client's 'ready' event.
  const whenReady = (c: KnClient) => (c.ready ? Promise.resolve() : guard('client ready', 10_000, new Promise<void>((r) => c.on('ready', () => r()))));
  const topicMetadata = async (c: KnClient, topics: string[]) => {
    const meta = await call<unknown>('metadata', (cb) => c.loadMetadataForTopics(topics, cb));
    return (meta as [unknown, { metadata: Record<string, Record<string, unknown>> }])[1]?.metadata ?? {};
  };

  const driver: ClientDriver = {
    id: 'kafka-node',
    listTopics: (conn) => withClient(conn, 'listTopics', async (c) => Object.keys(await topicMetadata(c, []))),
    describeTopics: (conn, topics) => withClient(conn, 'describeTopics', async (c) => {
      const meta = await topicMetadata(c, topics);
      return topics.map((name) => {
        if (!meta[name]) throw new ClientError('UNKNOWN_TOPIC_OR_PARTITION', `describeTopics: ${name} is not in the metadata`, 'kafka-node');
        return { name, partitions: Object.keys(meta[name]).length };
      });
    }),
    describeTopicConfig: (conn, topic) => withClient(conn, 'describeConfigs', async (c) => {
      await whenReady(c);
      const res = await call<{ resourceName: string; configEntries: { configName: string; configValue: string | null }[] }[]>('describeConfigs',
        (cb) => c.describeConfigs({ resources: [{ resourceType: 'topic', resourceName: topic, configNames: null }], includeSynonyms: false }, cb));
      return Object.fromEntries((res[0]?.configEntries ?? []).map((e) => [e.configName, e.configValue ?? null]));
    }),
    listGroups: (conn) => withClient(conn, 'listGroups', async (c) => (await whenReady(c), Object.keys(await call<Record<string, string>>('listGroups', (cb) => c.getListGroups(cb))))),
    describeGroup: (conn, groupId) => withClient(conn, 'describeGroups', async (c) => {
      await whenReady(c);
      const res = await call<Record<string, { state?: string; members?: unknown[] }>>('describeGroups', (cb) => c.getDescribeGroups([groupId], cb));
      const g = res[groupId];
      return { groupId, state: g?.state ?? 'Dead', members: g?.members?.length ?? 0 };
    }),
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
          if (!bad.length) return resolveDone();
          // Per-topic results carry only the broker's message: map Kafka's default texts back to codes.
          const code = canonicalFromKafkaMessage(bad[0]!.error) ?? 'UNKNOWN';
          return reject(new ClientError(code, `createTopics: ${bad.map((b) => `${b.topic}: ${b.error}`).join('; ')}`, 'kafka-node'));
        });
      })).then(async () => {
        // kafka-node's createTopics returns before the partitions have leaders; a send then
        // fails with NotLeaderForPartition, which it does not retry. Wait for the leaders.
        const deadline = Date.now() + 15_000;
        for (;;) {
          const meta = await new Promise<unknown>((r) => c.loadMetadataForTopics(topics.map((t) => t.name), (err, res) => r(err ? undefined : res)));
          const byTopic = (meta as [unknown, { metadata: Record<string, Record<string, { leader?: number }>> }] | undefined)?.[1]?.metadata ?? {};
          const ready = topics.every((t) => {
            const parts = Object.values(byTopic[t.name] ?? {});
            return parts.length >= t.partitions && parts.every((p) => (p.leader ?? -1) >= 0);
          });
          if (ready) return;
          if (Date.now() > deadline) throw new ClientError('TIMEOUT', `createTopics: no leaders for ${topics.map((t) => t.name).join(', ')} within 15 s`, 'kafka-node');
          await new Promise((w) => setTimeout(w, 200));
        }
      }));
    },
    async produce(conn, topic, records: OutRecord[]): Promise<ProducedRecord[]> {
      return await withClient(conn, 'produce', async (c) => {
        const producer = new kafka.HighLevelProducer(c, { requireAcks: -1, ackTimeoutMs: 10_000, partitionerType: 3 });
        // On a client that is already ready, the producer is ready at once (its 'ready' event
        // fired inside the constructor).
        if (!producer.ready) await guard('producer ready', 10_000, new Promise<void>((r, reject) => { producer.on('ready', () => r()); producer.on('error', reject); }));
        const out: ProducedRecord[] = [];
        // One record per request, so that each acknowledgement names its own offset.
        for (const r of records) {
          const send = () => guard('producer.send', 20_000, new Promise<Record<string, Record<string, number>>>((resolveSend, reject) => {
            producer.send([{ topic, key: r.key ?? undefined, messages: [new kafka.KeyedMessage(r.key, r.value)], ...(r.partition !== undefined ? { partition: r.partition } : {}) }],
              (err, d) => (err ? reject(err) : resolveSend(d)));
          }));
          let data: Record<string, Record<string, number>>;
          for (let attempt = 1; ; attempt++) {
            try {
              data = await send();
              break;
            } catch (err) {
              // Kafka documents NOT_LEADER_OR_FOLLOWER / LEADER_NOT_AVAILABLE as retriable (the
              // record was not written); kafka-node does not retry them itself. Twice at most,
              // after a metadata refresh, and recorded on the cell.
              const raw = err instanceof ClientError ? err.raw : String(err);
              if (attempt > 2 || !/NotLeaderForPartition|NOT_LEADER|LeaderNotAvailable|LEADER_NOT_AVAILABLE/i.test(raw)) throw err;
              recordRetry(`NOT_LEADER_OR_FOLLOWER: kafka-node send to ${topic} retried after a metadata refresh (${raw.slice(0, 120)})`);
              await new Promise<void>((w) => c.refreshMetadata([topic], () => w()));
              await new Promise((w) => setTimeout(w, 300));
            }
          }
          const [partition, offset] = Object.entries(data[topic] ?? {})[0] ?? [];
          if (partition === undefined) throw new ClientError('UNKNOWN', `producer.send: no acknowledgement for ${topic}`, 'kafka-node');
          out.push({ topic, partition: Number(partition), offset: String(offset) });
        }
        return out;
      });
    },
    async consume(conn, req: ConsumeRequest): Promise<InRecord[]> {
      const mode = req.commit ?? 'sync';
      if (mode === 'async' || mode === 'auto') {
        throw new ClientError('UNSUPPORTED_SETTING', `consume: the driver runs kafka-node's Consumer with explicit commits only (asked: ${mode})`, 'kafka-node');
      }
      return await withClient(conn, 'consume', async (c) => {
        const offsets = new kafka.Offset(c);
        // Where to start, as a group member would: the group's committed offset, else the
        // reset policy (earliest / latest) for partitions it never committed.
        const topicMeta = await topicMetadata(c, req.topics);
        const parts = req.topics.flatMap((t) => Object.keys(topicMeta[t] ?? { 0: {} }).map((p) => ({ topic: t, partition: Number(p) })));
        await findCoordinator(c, req.groupId);
        const committed = await call<OffsetMap>('fetchCommits', (cb) => offsets.fetchCommits(req.groupId, parts, cb));
        const reset = await call<OffsetMap>(req.fromBeginning ? 'fetchEarliestOffsets' : 'fetchLatestOffsets',
          (cb) => (req.fromBeginning ? offsets.fetchEarliestOffsets(req.topics, cb) : offsets.fetchLatestOffsets(req.topics, cb)));
        const payloads = parts.map((p) => {
          const done = committed[p.topic]?.[p.partition] ?? -1;
          return { ...p, offset: done >= 0 ? done : (reset[p.topic]?.[p.partition] ?? 0) };
        });
        const consumer = new kafka.Consumer(c, payloads, { groupId: req.groupId, autoCommit: false, fromOffset: true, encoding: 'utf8', keyEncoding: 'utf8' });
        const got: InRecord[] = [];
        const distinct = distinctRecords();
        try {
          await guard(`${req.count} record(s) from ${req.topics.join(', ')}`, req.timeoutMs, new Promise<void>((resolveDone, reject) => {
            consumer.on('error', reject);
            consumer.on('offsetOutOfRange', reject);
            consumer.on('message', (m) => {
              if (distinct.size >= req.count) return;
              const r = { topic: m.topic, partition: m.partition, offset: String(m.offset), key: str(m.key), value: str(m.value), headers: {} };
              got.push(r);
              if (distinct.add(r) >= req.count) resolveDone();
            });
          }));
          if (mode === 'sync') {
            // Exactly what was handed back, committed as Kafka does: the next offset to read.
            const next = resumeOffsets(got).map((o) => ({ ...o, offset: Number(o.offset) }));
            // OffsetCommit v2 with generation -1 and no member id: a commit stored in the group
            // coordinator, which OffsetFetch v1 (fetchCommits) reads back. Offset.commit sends v0,
            // which Kafka 3 in KRaft mode no longer keeps anywhere that v1 reads.
            await call('commit', (cb) => c.sendOffsetCommitV2Request(req.groupId, -1, '',
              next.map((o) => ({ ...o, metadata: 'kop-conformance' })), cb));
          }
        } finally {
          // Closing kafka-node's Consumer closes its client too.
          await new Promise<void>((r) => consumer.close(false, () => r()));
        }
        return got;
      });
    },
    async openConsumer(conn, req): Promise<ConsumerSession> {
      // kafka-node's group member: ConsumerGroup, with its own client, rebalancing by the
      // protocol's join/sync (roundrobin). Commits are the session's own, with the member's generation.
      const g = new kafka.ConsumerGroup({
        ...clientOptions(conn), groupId: req.groupId, autoCommit: false, commitOffsetsOnFirstJoin: false,
        fromOffset: req.fromBeginning ? 'earliest' : 'latest', sessionTimeout: 10_000, heartbeatInterval: 1000,
        protocol: ['roundrobin'], encoding: 'utf8', keyEncoding: 'utf8', fetchMaxWaitMs: 250,
      }, req.topics);
      groups.add(g);
      const session = bufferedSession({
        assignment: () => g.topicPayloads.map((p) => ({ topic: p.topic, partition: p.partition })),
        commit: (offsets) => guard('commit', 15_000, new Promise<void>((r, reject) => g.sendOffsetCommitRequest(
          offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: Number(o.offset), metadata: 'kop-conformance' })), (err) => (err ? reject(err) : r())))),
        // setOffset is kafka-node's seek; a fetch in flight would overwrite it when it completes,
        // so fetching pauses and that fetch ends first. (kafka-node 5.0.0 still drops
        // the replayed records: see suites/expectations/any-target.json.)
        seek: async (topic, partition, offset) => {
          g.pause();
          // Wait (bounded) for the fetch in flight, if any, to finish: ConsumerGroup emits 'done' then.
          if (g._isFetchPending) await guard('seek: wait for the fetch in flight', 10_000, new Promise<void>((r) => g.once('done', () => r())));
          g.setOffset(topic, partition, Number(offset));
          g.resume();
        },
        close: () => closeGroup(g),
        translate: (err) => guard('poll', 1000, Promise.reject(err)),
      });
      g.on('error', (e) => session.fail(e));
      g.on('message', (m) => session.push({ topic: m.topic, partition: m.partition, offset: String(m.offset), key: str(m.key), value: str(m.value), headers: {} }));
      return session;
    },
    async close() {
      await Promise.all([...groups].map(closeGroup));
      await Promise.all([...open].map(closeClient));
      open.clear();
    },
  };
  // A failure after an OffsetFetch answer that kafka-node cannot decode is reported as that.
  for (const name of ['consume', 'openConsumer'] as const) {
    const inner = driver[name]!.bind(driver) as (...a: unknown[]) => Promise<unknown>;
    (driver as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      const before = emptyOffsetFetches;
      try {
        return await inner(...args);
      } catch (err) {
        checkOffsetFetches(before, name);
        throw err;
      }
    };
  }
  return driver;
}

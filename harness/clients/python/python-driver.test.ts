// The Python drivers against the reference Apache Kafka broker: logins over both listeners,
// the canonical codes for a refused login and an untrusted CA, a produce/consume round trip
// with keys and headers, and a clean exit on close().
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientError } from '../../errors/canonical.js';
import { generateTls } from '../../security/tls.js';
import { startKafkaBroker } from '../../targets/kafka/kafka-target.js';
import type { StartedTarget } from '../../targets/types.js';
import { isAlive } from '../../util/process.js';
import { progress } from '../../util/progress.js';
import { ensureDir, workDir } from '../../util/paths.js';
import { pollUntil as retryUntil, withTimeout } from '../../util/wait.js';
import type { Capability, ConsumerSession, Connection, InRecord, TopicPartition } from '../types.js';
import type { ExternalDriverHandle } from '../external/external-driver.js';
import { pythonClientSpecs, startPythonDriver } from './python-driver.js';
import { createKafkaJsDriver } from '../kafkajs/kafkajs-driver.js';
import { firstDeliveries } from '../../util/delivery.js';

let target: StartedTarget;
let wrongCaPem: string;

beforeAll(async () => {
  target = await startKafkaBroker();
  const wrong = await generateTls(ensureDir(join(workDir, `py-wrong-ca-${process.pid}-${Date.now().toString(36)}`)), { caName: 'not the broker CA' });
  wrongCaPem = wrong.caPemPath;
}, 180_000);

afterAll(async () => {
  await target?.stop();
}, 60_000);

const conn = (over: Partial<Connection> = {}): Connection => ({
  target, protocol: 'SASL_PLAINTEXT', principal: target.principals[0]!, ...over,
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ClientError) return err.code;
    throw err;
  }
  return 'NO_ERROR';
}

const newTopic = (what: string) => `${target.topics.globalPrefix}py-${what}-${randomBytes(5).toString('hex')}`;
const newGroup = (what: string) => `py-${what}-${randomBytes(5).toString('hex')}`;
const partitionsOf = (assignment: TopicPartition[]) => assignment.map((a) => a.partition);

/** The protocol's bound on one consumer_poll: timeout_ms + 5 s. */
const POLL_MS = 1_000;
const POLL_BOUND_MS = POLL_MS + 5_000;

/** One bounded poll; also checks the driver answered within the protocol's bound. */
async function timedPoll(session: ConsumerSession): Promise<{ records: InRecord[]; assignment: TopicPartition[]; ms: number }> {
  const t0 = Date.now();
  const r = await session.poll(POLL_MS);
  const ms = Date.now() - t0;
  expect(ms).toBeLessThan(POLL_BOUND_MS);
  return { ...r, ms };
}

/** Polls until `done` holds (or `ms` passed); returns every record seen and the last assignment. */
async function pollUntil(session: ConsumerSession, done: (seen: InRecord[], assignment: TopicPartition[]) => boolean, ms = 60_000) {
  const seen: InRecord[] = [];
  let assignment: TopicPartition[] = [];
  const deadline = Date.now() + ms;
  while (!done(seen, assignment) && Date.now() < deadline) {
    const r = await timedPoll(session);
    seen.push(...r.records);
    assignment = r.assignment;
  }
  return { seen, assignment };
}

// kafka-python 3.0.12 receives the broker's SaslAuthenticate error (errno 58) only when the
// response and the broker's close arrive in separate reads: its transport
// (kafka/net/transport.py, _read_from_sock) drops bytes that came in the same read as EOF, and
// the broker closes right after answering. When every retry within bootstrap_timeout_ms loses
// the answer, the library has nothing but "socket disconnected" and the driver reports what it
// was given: TIMEOUT. Over TLS the answer is almost always lost. Anything else (a success, any
// other code, or taking longer than 10 s) still fails the test.
const refusedLoginCodes = (id: string): string[] =>
  /^kafka-python-3\./.test(id) ? ['SASL_AUTHENTICATION_FAILED', 'TIMEOUT'] : ['SASL_AUTHENTICATION_FAILED'];

describe.each(pythonClientSpecs())('$id', (spec) => {
  let driver: ExternalDriverHandle & { startupMs: number };

  /** checkLogin against a listener that accepts connections and never says a word: its error. */
  async function loginToSilentListener(protocol: 'SASL_PLAINTEXT' | 'SASL_SSL'): Promise<unknown> {
    const held: Socket[] = [];
    const silent = createServer((s) => void held.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (silent.address() as AddressInfo).port;
      const nowhere = { ...target, listeners: [{ securityProtocol: protocol, host: '127.0.0.1', port }] };
      return await driver.checkLogin({ target: nowhere, protocol, principal: target.principals[0]! }).then(() => undefined, (e: unknown) => e);
    } finally {
      for (const s of held) s.destroy();
      silent.close();
    }
  }

  beforeAll(async () => {
    driver = await startPythonDriver(spec);
    progress(`${spec.id}: startup`, `${driver.startupMs} ms spawn → startup_complete (version ${driver.version})`);
  }, 660_000);

  afterAll(async () => {
    await driver?.close();
  }, 30_000);

  it('reports its version and capabilities', () => {
    expect(driver.version).toMatch(/^\d+\.\d+/);
    expect([...driver.capabilities]).toEqual(expect.arrayContaining(['headers', 'admin.createTopics']));
  });

  it('logs in over SASL_PLAINTEXT', async () => {
    await driver.checkLogin(conn());
  });

  it('logs in over SASL_SSL trusting the target CA', async () => {
    await driver.checkLogin(conn({ protocol: 'SASL_SSL' }));
  });

  it('logs in over SASL_SSL with verification off (the seed way)', async () => {
    await driver.checkLogin(conn({ protocol: 'SASL_SSL', verifyTls: false }));
  });

  it.each(['SASL_PLAINTEXT', 'SASL_SSL'] as const)('refuses a forged password over %s within 10 s', async (protocol) => {
    const t0 = Date.now();
    const code = await codeOf(driver.checkLogin(conn({ protocol, password: target.forgedPasswords![0]! })));
    const ms = Date.now() - t0;
    progress(`${spec.id}: forged password over ${protocol}`, `${code} after ${ms} ms`);
    expect(refusedLoginCodes(spec.id)).toContain(code);
    expect(ms).toBeLessThan(10_000);
  });

  it('fails the TLS handshake against an untrusted CA', async () => {
    const code = await codeOf(driver.checkLogin(conn({ protocol: 'SASL_SSL', caPemPath: wrongCaPem })));
    expect(code).toBe('TLS_HANDSHAKE_FAILED');
  });

  // kafka-python 2.0.2 closes a connection that has not finished connecting within its bound
  // and then raises only NoBrokersAvailable; the cause is in its log ("Connection attempt to …
  // timed out"), and the driver takes it from there (TIMEOUT). kafka-python does not always log
  // it: during its version probe, conn.connect() times the attempt out at last_attempt + the
  // remaining span, and the loop around it (connect_blocking) stops at its own deadline, the same
  // span counted a few ms later. On a busy machine the loop can end first (a stress-ng CI run:
  // UNKNOWN), and nothing names a cause: the driver then says UNKNOWN with the bare exception,
  // and must not claim one. Only 2.0.2: confluent-kafka gives up after 15 s
  // (CONNECTION_CLOSED), and kafka-python 3.0.12 does not give up at all: its KafkaAdminClient
  // was still connecting after 180 s with request_timeout_ms 15 s and bootstrap_timeout_ms 7 s
  // (1.4.5 had fixed that for SSL, dpkp/kafka-python#1696); the harness ends such a driver
  // request at its own bound (35 s, TIMEOUT "no result from the driver").
  it.runIf(spec.id === 'kafka-python-2.0.2')('a SASL_SSL listener that accepts and never answers: TIMEOUT naming the connection attempt that timed out, or UNKNOWN with no cause when kafka-python logged none', async () => {
    const err = await loginToSilentListener('SASL_SSL');
    expect(err).toBeInstanceOf(ClientError);
    const { code, message } = err as ClientError;
    if (code === 'TIMEOUT') {
      expect(message).toMatch(/Connection attempt to .*<handshake>.* timed out/);
    } else {
      progress(`${spec.id}: silent SASL_SSL listener`, `kafka-python logged no timed-out attempt: ${message.split('\n')[0]}`);
      expect(code).toBe('UNKNOWN');
      expect(message).toMatch(/NoBrokersAvailable/);
      expect(message).not.toMatch(/cause seen in kafka-python's log|last connection error/);
    }
  });

  // kafka-python closes a connection whose request went unanswered with a RequestTimedOutError of
  // its own ("Request timed out after N ms"); no broker sent REQUEST_TIMED_OUT, so the code is
  // TIMEOUT. Seen under stress-ng: 3.0.12's refused login read REQUEST_TIMED_OUT when its
  // ApiVersions request timed out before the refusal came.
  it.runIf(spec.id.startsWith('kafka-python-'))('a SASL_PLAINTEXT listener that accepts and never answers: TIMEOUT (the client\'s own request timeout), not REQUEST_TIMED_OUT', async () => {
    const err = await loginToSilentListener('SASL_PLAINTEXT');
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).code, (err as ClientError).message).toBe('TIMEOUT');
  });

  // A busy machine can hold a client past its session timeout (seen: two KafkaJS members
  // evicted at once under stress-ng). The broker then evicts the member; on waking it rejoins and
  // reads again from the last commit. `count` counts distinct records, so the consume still ends
  // with every record, the re-read ones twice, and nothing reads as lost. Here the stall is made
  // with SIGSTOP. Only confluent-kafka: kafka-python (2.0.2 and 3.0.12) does not re-read, it fails
  // the final commit instead (CommitFailedError, the member is unknown), which the cell reports.
  it.runIf(spec.id === 'confluent-kafka')('a member stalled past its session timeout mid-consume re-reads from the last commit; the consume returns every record, the re-read ones again', async () => {
    const topic = newTopic('stall');
    const late = createKafkaJsDriver();
    try {
      await driver.produce(conn(), topic, Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: `a-${i}` })));
      // The stall comes once the member has read a-* (its records_consumed progress events): a
      // fixed 5 s was not always enough to join and read on a busy machine (stop 25's CI: nothing
      // read before the stall, so nothing re-read after it).
      let read = 0;
      let readAll!: () => void;
      const readA = new Promise<void>((r) => { readAll = r; });
      const stop = driver.onProgress((ev) => {
        if (ev.event === 'records_consumed' && (read += ev.count ?? 0) >= 10) readAll();
      });
      const consuming = driver.consume(conn(), { topics: [topic], groupId: newGroup('stall'), fromBeginning: true, count: 20, timeoutMs: 60_000 });
      consuming.catch(() => undefined);
      try {
        await withTimeout('the member to read the 10 a-* records (records_consumed)', 30_000, Promise.race([readA, consuming.then(() => undefined)]));
      } finally {
        stop();
      }
      process.kill(driver.pid, 'SIGSTOP');
      try {
        await new Promise((r) => setTimeout(r, 14_000)); // the driver's session timeout is 10 s
      } finally {
        process.kill(driver.pid, 'SIGCONT');
      }
      await late.produce(conn(), topic, Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: `b-${i}` })));
      const got = await consuming;
      const values = got.map((r) => r.value);
      expect(firstDeliveries(got).map((r) => r.value)).toEqual([...Array.from({ length: 10 }, (_, i) => `a-${i}`), ...Array.from({ length: 10 }, (_, i) => `b-${i}`)]);
      expect(values.length, `re-read after the eviction: ${values.join(' ')}`).toBeGreaterThan(20);
    } finally {
      await late.close();
    }
  }, 90_000);

  it('produces keyed records with headers and consumes them back', async () => {
    const topic = `${target.topics.globalPrefix}py-${randomBytes(5).toString('hex')}`;
    await driver.createTopics(conn(), [{ name: topic, partitions: 2 }]);
    const out = [0, 1, 2].map((i) => ({
      key: `key-${i}`, value: `value-${i} ✓`, headers: { trace: `t-${i}`, client: spec.id }, partition: i % 2,
    }));
    const produced = await driver.produce(conn({ protocol: 'SASL_SSL' }), topic, out);
    expect(produced.map((p) => p.partition)).toEqual([0, 1, 0]);
    const consumed = await driver.consume(conn(), {
      topics: [topic], groupId: `py-${randomBytes(5).toString('hex')}`, fromBeginning: true, count: 3, timeoutMs: 30_000,
    });
    const byKey = new Map(consumed.map((r) => [r.key, r]));
    expect(consumed).toHaveLength(3);
    out.forEach((o, i) => {
      expect(byKey.get(o.key)).toEqual({
        topic, partition: produced[i]!.partition, offset: produced[i]!.offset,
        key: o.key, value: o.value, headers: o.headers, timestamp: expect.stringMatching(/^\d+$/),
      });
    });
  }, 90_000);

  const has = (...caps: Capability[]) => caps.every((c) => driver.capabilities.has(c));

  it('announces only admin calls and session features it serves', () => {
    const wanted: [Capability, keyof typeof driver][] = [
      ['admin.listTopics', 'listTopics'], ['admin.describeTopics', 'describeTopics'],
      ['admin.describeConfigs', 'describeTopicConfig'], ['admin.groups', 'listGroups'],
      ['admin.groups', 'describeGroup'], ['admin.committedOffsets', 'committedOffsets'],
      ['groups.session', 'openConsumer'], ['transactions', 'openTransactionalProducer'],
    ];
    for (const [cap, method] of wanted) expect(typeof driver[method] === 'function').toBe(has(cap));
    if (has('consumer.seek')) expect(has('groups.session')).toBe(true);
    progress(`${spec.id}: capabilities`, [...driver.capabilities].join(' '));
  });

  it('transactions: an unknown producer handle fails naming it, closing one is not an error, a bad isolation level is refused', async (ctx) => {
    if (!has('transactions')) ctx.skip();
    const unknown = await driver.request('txn_commit', { handle: 'no-such-producer' }, 20_000).then(() => undefined, (e: unknown) => e);
    expect(unknown).toBeInstanceOf(ClientError);
    expect((unknown as ClientError).code).toBe('UNKNOWN');
    expect((unknown as ClientError).raw).toContain('no-such-producer');
    await driver.request('txn_producer_close', { handle: 'no-such-producer' }, 20_000);
    const bad = await codeOf(driver.consume(conn(), {
      topics: [newTopic('iso')], groupId: newGroup('iso'), fromBeginning: true, count: 1, timeoutMs: 5_000,
      isolationLevel: 'read_everything' as never,
    }));
    expect(bad).toBe('UNSUPPORTED_SETTING');
  });

  it('admin: lists and describes a topic, its configuration, a group and its committed offsets', async (ctx) => {
    const admin: Capability[] = ['admin.listTopics', 'admin.describeTopics', 'admin.describeConfigs', 'admin.groups', 'admin.committedOffsets'];
    if (!admin.some((c) => has(c))) ctx.skip();
    const topic = newTopic('admin');
    await driver.createTopics(conn(), [{ name: topic, partitions: 3 }]);
    if (has('admin.listTopics')) {
      // Kafka: a created topic reaches every broker's metadata a moment after CreateTopics answers.
      const listed = await retryUntil('created topic listed', async () => {
        const all = await driver.listTopics!(conn());
        if (!all.includes(topic)) throw new Error(`not listed yet: ${topic}`);
        return all;
      }, { timeoutMs: 20_000, intervalMs: 500 });
      expect(listed).toContain(topic);
    }
    if (has('admin.describeTopics')) {
      expect(await driver.describeTopics!(conn(), [topic])).toEqual([{ name: topic, partitions: 3 }]);
      expect(await codeOf(driver.describeTopics!(conn(), [`${topic}-missing`]))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    }
    if (has('admin.describeConfigs')) {
      const configs = await driver.describeTopicConfig!(conn(), topic);
      expect(configs).toHaveProperty(['cleanup.policy']);
      expect(configs['cleanup.policy']).toBe('delete');
      expect(await codeOf(driver.describeTopicConfig!(conn(), `${topic}-missing`))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    }
    if (!has('admin.groups') && !has('admin.committedOffsets')) return;
    const groupId = newGroup('admin');
    await driver.produce(conn(), topic, [
      { key: 'a', value: '1', partition: 0 }, { key: 'b', value: '2', partition: 2 }, { key: 'c', value: '3', partition: 2 },
    ]);
    await driver.consume(conn(), { topics: [topic], groupId, fromBeginning: true, count: 3, timeoutMs: 30_000, commit: 'sync' });
    if (has('admin.groups')) {
      expect(await driver.listGroups!(conn())).toContain(groupId);
      // The consumer left on close: the broker keeps the group, without members.
      expect(await driver.describeGroup!(conn(), groupId)).toEqual({ groupId, state: 'Empty', members: 0 });
    }
    if (has('admin.committedOffsets')) {
      const offsets = await driver.committedOffsets!(conn(), groupId);
      expect(offsets).toEqual(expect.arrayContaining([
        { topic, partition: 0, offset: '1' }, { topic, partition: 2, offset: '2' },
      ]));
      expect(offsets.every((o) => o.topic === topic)).toBe(true);
    }
  }, 120_000);

  it('a consumer session polls, commits, seeks back and closes', async (ctx) => {
    if (!has('groups.session')) ctx.skip();
    const topic = newTopic('session');
    const groupId = newGroup('session');
    await driver.createTopics(conn(), [{ name: topic, partitions: 2 }]);
    const produced = await driver.produce(conn(), topic, [0, 1, 2, 3].map((i) => ({
      key: `k${i}`, value: `v${i}`, headers: { n: String(i) }, partition: i % 2,
    })));
    expect(produced.map((p) => `${p.partition}:${p.offset}`)).toEqual(['0:0', '1:0', '0:1', '1:1']);

    const session = await driver.openConsumer!(conn(), { topics: [topic], groupId, fromBeginning: true });
    let closed = false;
    try {
      const first = await pollUntil(session, (seen, asg) => seen.length >= 4 && asg.length === 2);
      expect(first.assignment).toEqual([{ topic, partition: 0 }, { topic, partition: 1 }]);
      expect(first.seen.map((r) => `${r.partition}:${r.offset}:${r.key}`).sort()).toEqual(['0:0:k0', '0:1:k2', '1:0:k1', '1:1:k3']);
      expect(first.seen.find((r) => r.key === 'k3')).toEqual({
        topic, partition: 1, offset: '1', key: 'k3', value: 'v3', headers: { n: '3' }, timestamp: expect.stringMatching(/^\d+$/),
      });

      const committed = await session.commit();
      expect(committed).toEqual([{ topic, partition: 0, offset: '2' }, { topic, partition: 1, offset: '2' }]);
      if (has('admin.committedOffsets')) expect(await driver.committedOffsets!(conn(), groupId)).toEqual(committed);
      if (has('admin.groups')) expect(await driver.describeGroup!(conn(), groupId)).toMatchObject({ state: 'Stable', members: 1 });

      if (has('consumer.seek')) {
        await session.seek(topic, 1, '0');
        const again = await pollUntil(session, (seen) => seen.length >= 2, 30_000);
        expect(again.seen.map((r) => `${r.partition}:${r.offset}:${r.key}`)).toEqual(['1:0:k1', '1:1:k3']);
      }
      await session.close();
      closed = true;
      if (has('admin.groups')) expect(await driver.describeGroup!(conn(), groupId)).toMatchObject({ state: 'Empty', members: 0 });
      // Closing twice (an unknown handle) is not an error.
      await session.close();
    } finally {
      if (!closed) await session.close().catch(() => undefined);
    }
  }, 150_000);

  it('two members in two processes split two partitions; the survivor gets both back', async (ctx) => {
    if (!has('groups.session')) ctx.skip();
    const topic = newTopic('rebalance');
    const groupId = newGroup('rebalance');
    await driver.createTopics(conn(), [{ name: topic, partitions: 2 }]);
    const other = await startPythonDriver(spec);
    const sessions: ConsumerSession[] = [];
    try {
      const a = await driver.openConsumer!(conn(), { topics: [topic], groupId, fromBeginning: true });
      sessions.push(a);
      const alone = await pollUntil(a, (_seen, asg) => asg.length === 2);
      expect(partitionsOf(alone.assignment)).toEqual([0, 1]);

      const b = await other.openConsumer!(conn(), { topics: [topic], groupId, fromBeginning: true });
      sessions.push(b);
      // B's join waits for A to rejoin, and A does not poll yet: the poll still answers in time.
      const lonely = await timedPoll(b);
      progress(`${spec.id}: rebalance`, `B's first poll, A idle: ${lonely.ms} ms, assignment [${partitionsOf(lonely.assignment).join(',')}]`);

      let pa: number[] = [];
      let pb: number[] = [];
      const t0 = Date.now();
      while (Date.now() - t0 < 60_000) {
        const [ra, rb] = await Promise.all([timedPoll(a), timedPoll(b)]);
        pa = partitionsOf(ra.assignment);
        pb = partitionsOf(rb.assignment);
        if (pa.length === 1 && pb.length === 1 && pa[0] !== pb[0]) break;
      }
      progress(`${spec.id}: rebalance`, `split after ${Date.now() - t0} ms: A [${pa.join(',')}], B [${pb.join(',')}]`);
      expect(pa).toHaveLength(1);
      expect(pb).toHaveLength(1);
      expect([...pa, ...pb].sort()).toEqual([0, 1]);
      if (has('admin.groups')) expect((await driver.describeGroup!(conn(), groupId)).members).toBe(2);

      await b.close();
      sessions.pop();
      const back = await pollUntil(a, (_seen, asg) => asg.length === 2);
      expect(partitionsOf(back.assignment)).toEqual([0, 1]);
      await a.close();
      sessions.pop();
    } finally {
      for (const s of sessions) await s.close().catch(() => undefined);
      await other.close();
    }
  }, 180_000);

  it('ends its process on close()', async () => {
    const pid = driver.pid;
    expect(isAlive(pid)).toBe(true);
    await driver.close();
    expect(isAlive(pid)).toBe(false);
  });
});

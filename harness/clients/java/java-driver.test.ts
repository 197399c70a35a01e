// The Java kafka-clients driver against the reference Apache Kafka broker, once per pinned
// kafka-clients version (seed 2.8.0 and current), plus the parent's handling of drivers that
// break PROTOCOL.md (garbage, early exit, silence).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientError } from '../../errors/canonical.js';
import { generateTls, type TlsMaterial } from '../../security/tls.js';
import { startKafkaBroker } from '../../targets/kafka/kafka-target.js';
import type { StartedTarget } from '../../targets/types.js';
import { progress } from '../../util/progress.js';
import { pollUntil as retryUntil } from '../../util/wait.js';
import { startExternalDriver, wireConnection, type ExternalDriverHandle } from '../external/external-driver.js';
import type { ConsumerSession, Connection, InRecord, ProducedRecord, TopicPartition } from '../types.js';
import { buildJavaDriver, javaClientEntries, javaClientId, startJavaDriver } from './java-driver.js';
import { JAVA_KAFKA_CLIENTS_VERSIONS } from './versions.js';

const suffix = () => randomBytes(4).toString('hex');

async function failureOf(p: Promise<unknown>): Promise<ClientError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ClientError);
    return e as ClientError;
  }
  throw new Error('expected the operation to fail, it succeeded');
}

/** Polls `session` (1 s polls) until `done` holds for the records so far and the last assignment, within `boundMs`. */
async function pollUntil(
  session: ConsumerSession,
  done: (records: InRecord[], assignment: TopicPartition[]) => boolean,
  boundMs = 60_000,
): Promise<{ records: InRecord[]; assignment: TopicPartition[] }> {
  const records: InRecord[] = [];
  let assignment: TopicPartition[] = [];
  const until = Date.now() + boundMs;
  while (Date.now() < until) {
    const r = await session.poll(1000);
    records.push(...r.records);
    assignment = r.assignment;
    if (done(records, assignment)) return { records, assignment };
  }
  throw new Error(`poll condition not met within ${boundMs} ms: ${records.length} records, assignment ${JSON.stringify(assignment)}`);
}

const partitionsOf = (a: TopicPartition[]) => a.map((tp) => tp.partition);

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

describe('Java kafka-clients driver', () => {
  let target: StartedTarget | undefined;
  let otherCa: TlsMaterial;
  let tmp: string;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'kopc-java-driver-'));
    [target, otherCa] = await Promise.all([
      startKafkaBroker({ heap: '384m' }),
      generateTls(join(tmp, 'other-ca'), { caName: 'kop-conformance unrelated CA' }),
    ]);
  }, 180_000);

  afterAll(async () => {
    await target?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }, 60_000);

  const conn = (protocol: Connection['protocol'], extra: Partial<Connection> = {}): Connection =>
    ({ target: target!, protocol, principal: target!.principals[0]!, ...extra });

  it('registers one entry per pinned kafka-clients version', () => {
    expect(javaClientEntries().map((e) => e.id)).toEqual(JAVA_KAFKA_CLIENTS_VERSIONS.map((v) => `java-${v}`));
  });

  describe.each(JAVA_KAFKA_CLIENTS_VERSIONS)('kafka-clients %s', (version) => {
    let driver: ExternalDriverHandle | undefined;

    beforeAll(async () => {
      const b0 = Date.now();
      await buildJavaDriver(version);
      progress(`java-driver ${version}`, `build (cached or cold) ${Date.now() - b0} ms`);
      const t0 = Date.now();
      driver = await startJavaDriver(version);
      progress(`java-driver ${version}`, `spawn → startup_complete ${Date.now() - t0} ms`);
    }, 600_000);

    afterAll(async () => {
      await driver?.close();
    }, 30_000);

    it('announces the kafka-clients version it runs and its capabilities', () => {
      expect(driver!.id).toBe(javaClientId(version));
      expect(driver!.version).toBe(version);
      expect([...driver!.capabilities]).toEqual(expect.arrayContaining(['admin.createTopics', 'admin.deleteTopics', 'groups.commit', 'headers', 'timestamps', 'commit.async']));
      expect([...driver!.capabilities]).toEqual(expect.arrayContaining(['admin.listTopics', 'admin.describeTopics', 'admin.describeConfigs', 'admin.groups', 'admin.committedOffsets', 'groups.session', 'consumer.seek']));
      expect(driver!.capabilities.has('transactions')).toBe(true);
      expect(typeof driver!.openTransactionalProducer).toBe('function');
    });

    it('transactions: an unknown producer handle fails naming it, closing one is not an error, a bad isolation level is refused', async () => {
      const unknown = await failureOf(driver!.request('txn_commit', { handle: 'no-such-producer' }, 20_000));
      expect(unknown.code).toBe('UNKNOWN');
      expect(unknown.raw).toContain('no-such-producer');
      await driver!.request('txn_producer_close', { handle: 'no-such-producer' }, 20_000);
      const bad = await failureOf(driver!.consume(conn('SASL_PLAINTEXT'), {
        topics: [`${target!.topics.globalPrefix}java-iso-${suffix()}`], groupId: `java-iso-${suffix()}`, fromBeginning: true, count: 1, timeoutMs: 5_000,
        isolationLevel: 'read_everything' as never,
      }));
      expect(bad.code).toBe('UNSUPPORTED_SETTING');
    });

    it('reports the API versions its kafka-clients speaks, without a broker', async () => {
      const apis = await driver!.clientApiVersions!();
      const produce = apis.find((a) => a.key === 0);
      expect(produce?.name).toBe('Produce');
      // Kafka 4 clients dropped Produce v0-v2 (KIP-896); 2.8.0 still speaks v0.
      expect(produce!.min).toBe(version.startsWith('2.') ? 0 : 3);
      expect(produce!.max).toBeGreaterThanOrEqual(8);
      expect(apis.map((a) => a.key)).toEqual([...apis.map((a) => a.key)].sort((a, b) => a - b));
    });

    it('logs in on SASL_PLAINTEXT and SASL_SSL', async () => {
      await driver!.checkLogin(conn('SASL_PLAINTEXT'));
      await driver!.checkLogin(conn('SASL_SSL'));
    });

    it('logs in on SASL_SSL with verification off (trust-all engine factory)', async () => {
      await driver!.checkLogin(conn('SASL_SSL', { verifyTls: false }));
    });

    it('refuses a wrong password with SASL_AUTHENTICATION_FAILED in under 5 s', async () => {
      const t0 = Date.now();
      const err = await failureOf(driver!.checkLogin(conn('SASL_PLAINTEXT', { password: target!.forgedPasswords![0]! })));
      const took = Date.now() - t0;
      progress(`java-driver ${version}`, `wrong password refused in ${took} ms`);
      expect(err.code).toBe('SASL_AUTHENTICATION_FAILED');
      expect(took).toBeLessThan(5000);
      expect(err.raw).not.toContain(target!.forgedPasswords![0]!);
    });

    it('refuses a server certificate from another CA with TLS_HANDSHAKE_FAILED', async () => {
      const err = await failureOf(driver!.checkLogin(conn('SASL_SSL', { caPemPath: otherCa.caPemPath })));
      expect(err.code).toBe('TLS_HANDSHAKE_FAILED');
    });

    it('round-trips keyed records with headers through a consumer group', async () => {
      const topic = `${target!.topics.globalPrefix}java-${suffix()}`;
      const c = conn('SASL_PLAINTEXT');
      await driver!.createTopics(c, [{ name: topic, partitions: 1 }]);
      await driver!.createTopics(c, [{ name: topic, partitions: 1 }]); // existing: not an error
      const sent = [0, 1, 2].map((i) => ({ key: `k${i}`, value: `v${i} ünïcode`, headers: { h: `x${i}`, trace: 'java' } }));
      const produced = await driver!.produce(c, topic, sent);
      expect(produced.map((r) => r.offset)).toEqual(['0', '1', '2']);
      expect(produced.every((r) => r.topic === topic && r.partition === 0)).toBe(true);

      const group = `java-${suffix()}`;
      const got = await driver!.consume(conn('SASL_SSL'), { topics: [topic], groupId: group, fromBeginning: true, count: 3, timeoutMs: 30_000 });
      expect(got).toEqual(sent.map((s, i) => ({ topic, partition: 0, offset: produced[i]!.offset, key: s.key, value: s.value, headers: s.headers, timestamp: expect.stringMatching(/^\d+$/) })));

      // The group committed what it returned: nothing is left, so a bounded wait ends in TIMEOUT.
      const t0 = Date.now();
      const err = await failureOf(driver!.consume(c, { topics: [topic], groupId: group, fromBeginning: true, count: 1, timeoutMs: 3000 }));
      expect(err.code).toBe('TIMEOUT');
      expect(Date.now() - t0).toBeLessThan(15_000);
    });

    it('honours acks, compression, idempotence, explicit partitions and the async commit mode', async () => {
      const topic = `${target!.topics.globalPrefix}java-${suffix()}`;
      const c = conn('SASL_PLAINTEXT');
      const wire = wireConnection(c);
      await driver!.createTopics(c, [{ name: topic, partitions: 2 }]);
      const a = await driver!.request<{ records: ProducedRecord[] }>('produce', {
        conn: wire, topic, acks: '1', compression: 'gzip', idempotence: false,
        records: [{ key: 'a', value: 'to-1', partition: 1 }, { key: null, value: null, partition: 0 }],
      }, 45_000);
      const b = await driver!.request<{ records: ProducedRecord[] }>('produce', {
        conn: wire, topic, acks: 'all', compression: 'zstd', idempotence: true, records: [{ key: 'b', value: 'to-1-again', partition: 1 }],
      }, 45_000);
      expect([...a.records, ...b.records].map((r) => [r.partition, r.offset])).toEqual([[1, '0'], [0, '0'], [1, '1']]);

      const group = `java-${suffix()}`;
      const got = await driver!.request<{ records: InRecord[] }>('consume', {
        conn: wire, topics: [topic], group_id: group, from_beginning: true, count: 3, timeout_ms: 30_000, commit: 'async',
      }, 45_000);
      const byPos = (r: InRecord) => `${r.partition}/${r.offset}`;
      expect(got.records.map((r) => [byPos(r), r.key, r.value]).sort()).toEqual([['0/0', null, null], ['1/0', 'a', 'to-1'], ['1/1', 'b', 'to-1-again']]);
      const again = await failureOf(driver!.consume(c, { topics: [topic], groupId: group, fromBeginning: true, count: 1, timeoutMs: 3000 }));
      expect(again.code).toBe('TIMEOUT');

      await driver!.request('delete_topics', { conn: wire, topics: [topic] }, 45_000);
      await driver!.request('delete_topics', { conn: wire, topics: [topic] }, 45_000); // absent: not an error
    });

    it('lists and describes topics, topic configs, groups and committed offsets', async () => {
      const d = driver!;
      const topic = `${target!.topics.globalPrefix}java-admin-${suffix()}`;
      const c = conn('SASL_PLAINTEXT');
      await d.createTopics(c, [{ name: topic, partitions: 3 }]);
      // Kafka: a created topic reaches every broker's metadata a moment after CreateTopics answers.
      const listed = await retryUntil('created topic listed', async () => {
        const all = await d.listTopics!(c);
        if (!all.includes(topic)) throw new Error(`not listed yet: ${topic}`);
        return all;
      }, { timeoutMs: 20_000, intervalMs: 500 });
      expect(listed).toContain(topic);
      expect(await d.describeTopics!(c, [topic])).toEqual([{ name: topic, partitions: 3 }]);
      const missing = await failureOf(d.describeTopics!(c, [`${topic}-absent`]));
      expect(missing.code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
      const configs = await d.describeTopicConfig!(c, topic);
      expect(configs['cleanup.policy']).toBe('delete');
      expect(Object.keys(configs)).toEqual(expect.arrayContaining(['retention.ms', 'max.message.bytes']));

      await d.produce(c, topic, [{ key: 'a', value: '1', partition: 2 }, { key: 'b', value: '2', partition: 2 }]);
      const group = `java-admin-${suffix()}`;
      await d.consume(c, { topics: [topic], groupId: group, fromBeginning: true, count: 2, timeoutMs: 30_000 });
      expect(await d.listGroups!(c)).toContain(group);
      const desc = await d.describeGroup!(c, group);
      expect(desc.groupId).toBe(group);
      expect(desc.state).toBe('Empty'); // the consume closed its member
      expect(desc.members).toBe(0);
      expect(await d.committedOffsets!(c, group)).toEqual([{ topic, partition: 2, offset: '2' }]);
      expect(await d.committedOffsets!(c, `java-never-${suffix()}`)).toEqual([]);
    }, 120_000);

    it('keeps a consumer session across commands: poll, commit, seek, close', async () => {
      const d = driver!;
      const topic = `${target!.topics.globalPrefix}java-session-${suffix()}`;
      const c = conn('SASL_PLAINTEXT');
      await d.createTopics(c, [{ name: topic, partitions: 2 }]);
      await d.produce(c, topic, [0, 1, 2, 3].map((i) => ({ key: `k${i}`, value: `v${i}`, partition: i % 2 })));
      const group = `java-session-${suffix()}`;
      const session = await d.openConsumer!(c, { topics: [topic], groupId: group, fromBeginning: true });
      try {
        const first = await pollUntil(session, (recs, a) => recs.length >= 4 && a.length === 2);
        expect(first.records).toHaveLength(4);
        expect(first.assignment).toEqual([{ topic, partition: 0 }, { topic, partition: 1 }]);
        expect(first.records.map((r) => `${r.partition}/${r.offset}/${r.key}/${r.value}`).sort())
          .toEqual(['0/0/k0/v0', '0/1/k2/v2', '1/0/k1/v1', '1/1/k3/v3']);
        expect(first.records.every((r) => /^\d+$/.test(r.timestamp ?? ''))).toBe(true);

        const committed = await session.commit();
        expect(committed).toEqual([{ topic, partition: 0, offset: '2' }, { topic, partition: 1, offset: '2' }]);
        expect(await d.committedOffsets!(c, group)).toEqual(committed);
        const live = await d.describeGroup!(c, group);
        expect(live.members).toBe(1);

        await session.seek(topic, 0, '0');
        const again = await pollUntil(session, (recs) => recs.length >= 2, 30_000);
        expect(again.records.map((r) => `${r.partition}/${r.offset}`)).toEqual(['0/0', '0/1']);
      } finally {
        await session.close();
      }
      expect((await d.describeGroup!(c, group)).members).toBe(0);

      // A closed or unknown handle: close is a no-op, poll/commit/seek fail with UNKNOWN.
      await d.request('consumer_close', { handle: 'no-such-session' }, 10_000);
      const err = await failureOf(d.request('consumer_poll', { handle: 'no-such-session', timeout_ms: 100 }, 10_000));
      expect(err.code).toBe('UNKNOWN');
      expect(err.message).toMatch(/no-such-session/);
    }, 180_000);

    it('rebalances a two-member group across two driver processes', async () => {
      const topic = `${target!.topics.globalPrefix}java-rebalance-${suffix()}`;
      const c = conn('SASL_PLAINTEXT');
      await driver!.createTopics(c, [{ name: topic, partitions: 2 }]);
      const group = `java-rebalance-${suffix()}`;
      const other = await startJavaDriver(version);
      let a: ConsumerSession | undefined;
      let b: ConsumerSession | undefined;
      try {
        const t0 = Date.now();
        a = await driver!.openConsumer!(c, { topics: [topic], groupId: group, fromBeginning: true });
        const alone = await pollUntil(a, (_r, as) => as.length === 2);
        expect(partitionsOf(alone.assignment)).toEqual([0, 1]);
        const t1 = Date.now();

        b = await other.openConsumer!(c, { topics: [topic], groupId: group, fromBeginning: true });
        let split: [TopicPartition[], TopicPartition[]] | undefined;
        const until = Date.now() + 60_000;
        while (Date.now() < until) {
          const [ra, rb] = await Promise.all([a.poll(1000), b.poll(1000)]);
          if (ra.assignment.length === 1 && rb.assignment.length === 1) {
            split = [ra.assignment, rb.assignment];
            break;
          }
        }
        expect(split, 'the group split its two partitions between the two members within 60 s').toBeDefined();
        expect([...partitionsOf(split![0]), ...partitionsOf(split![1])].sort()).toEqual([0, 1]);
        expect((await driver!.describeGroup!(c, group)).members).toBe(2);
        const t2 = Date.now();

        await b.close();
        b = undefined;
        const back = await pollUntil(a, (_r, as) => as.length === 2);
        expect(partitionsOf(back.assignment)).toEqual([0, 1]);
        progress(`java-driver ${version}`, `rebalance: alone ${t1 - t0} ms, split ${t2 - t1} ms, back ${Date.now() - t2} ms`);
      } finally {
        await b?.close().catch(() => undefined);
        await a?.close().catch(() => undefined);
        await other.close();
      }
    }, 240_000);

    it('closes its open sessions on shutdown, so their members leave the group', async () => {
      const topic = `${target!.topics.globalPrefix}java-shutdown-${suffix()}`;
      const c = conn('SASL_PLAINTEXT');
      await driver!.createTopics(c, [{ name: topic, partitions: 1 }]);
      const group = `java-shutdown-${suffix()}`;
      const other = await startJavaDriver(version);
      try {
        const s = await other.openConsumer!(c, { topics: [topic], groupId: group, fromBeginning: true });
        await pollUntil(s, (_r, as) => as.length === 1);
        expect((await driver!.describeGroup!(c, group)).members).toBe(1);
      } finally {
        await other.close();
      }
      expect(processGone(other.pid)).toBe(true);
      // Well before the 10 s session timeout: the member left on shutdown.
      const gone = await driver!.describeGroup!(c, group);
      expect(gone.members).toBe(0);
    }, 120_000);

    it('keeps its stderr free of configuration complaints', () => {
      expect(driver!.stderrTail()).not.toMatch(/isn't a known config|was supplied but/);
    });

    it('ends its process on close()', async () => {
      const pid = driver!.pid;
      await driver!.close();
      expect(processGone(pid)).toBe(true);
      driver = undefined;
    });
  });
});

describe('external driver: drivers that break the protocol', () => {
  const node = (script: string, id: string) =>
    startExternalDriver({ id, command: process.execPath, args: ['-e', script], startTimeoutMs: 10_000 });

  it('fails with CLIENT_PROTOCOL_ERROR when the driver prints garbage instead of startup_complete', async () => {
    const t0 = Date.now();
    const err = await failureOf(node('process.stdout.write("Picked up JAVA_TOOL_OPTIONS\\n"); setInterval(() => {}, 1000);', 'fake-garbage'));
    expect(err.code).toBe('CLIENT_PROTOCOL_ERROR');
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('fails with CLIENT_CRASHED when the driver exits before startup_complete', async () => {
    const err = await failureOf(node('process.stderr.write("boom\\n"); process.exit(3);', 'fake-exit'));
    expect(err.code).toBe('CLIENT_CRASHED');
  });

  it('fails a request with TIMEOUT when the driver never answers it', async () => {
    const silent = [
      'console.log(JSON.stringify({ event: "startup_complete", client: "fake", version: "0", capabilities: [] }));',
      'require("readline").createInterface({ input: process.stdin }).on("line", (l) => {',
      '  const c = JSON.parse(l);',
      '  if (c.op === "shutdown") { console.log(JSON.stringify({ event: "result", id: c.id, ok: true, data: {} })); process.exit(0); }',
      '});',
    ].join('\n');
    const d = await node(silent, 'fake-silent');
    try {
      const t0 = Date.now();
      const err = await failureOf(d.request('check_login', {}, 1000));
      expect(err.code).toBe('TIMEOUT');
      expect(Date.now() - t0).toBeLessThan(3000);
    } finally {
      await d.close();
    }
    expect(processGone(d.pid)).toBe(true);
  });
});

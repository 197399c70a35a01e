// The Go drivers (every folder under harness/clients/go/ with a go.mod) against the reference
// Apache Kafka broker, modelled on the Java and Python driver tests: the build cache and its
// key, startup_complete, logins over both listeners, the canonical codes for a refused login
// and an untrusted CA, a produce/consume round trip with keys and headers, admin calls, a
// consumer session, the watchdog (parent gone, stdin closed, SIGTERM) and a clean close().
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientError } from '../../errors/canonical.js';
import { generateTls } from '../../security/tls.js';
import { startKafkaBroker } from '../../targets/kafka/kafka-target.js';
import type { StartedTarget } from '../../targets/types.js';
import { isAlive } from '../../util/process.js';
import { progress } from '../../util/progress.js';
import { cacheDir, ensureDir, workDir } from '../../util/paths.js';
import { pollUntil } from '../../util/wait.js';
import type { Capability, ConsumerSession, Connection, InRecord, TopicPartition } from '../types.js';
import type { ExternalDriverHandle } from '../external/external-driver.js';
import { buildGoDriver, goBuildHash, goClientEntry, goClientsDir, goSourceFiles, goUnavailable, GO_NOT_FOUND, isGoClientFolder, probeGoVersion, startGoDriver } from './go-driver.js';

const goClients = readdirSync(goClientsDir, { withFileTypes: true })
  .filter((e) => e.isDirectory() && isGoClientFolder(join(goClientsDir, e.name))).map((e) => e.name).sort();

describe('go driver build', () => {
  it('finds the Go clients and keys each build on its sources and the Go version', () => {
    expect(goClients).toEqual(expect.arrayContaining(['franz-go', 'sarama']));
    expect(goClients).not.toContain('driverkit');
    const src = join(goClientsDir, 'franz-go');
    // The shared module the go.mod replaces in is part of the key.
    expect(goSourceFiles(src)).toEqual(expect.arrayContaining(['go.mod', 'go.sum', 'main.go', '../driverkit/go.mod', '../driverkit/serve.go']));
    const h = goBuildHash(src, 'go1.26.8');
    expect(h).toMatch(/^[0-9a-f]{12}$/);
    expect(goBuildHash(src, 'go1.26.8')).toBe(h);
    expect(goBuildHash(src, 'go1.25.0')).not.toBe(h);
    // A changed source file is a new key; so is a change to the shared module, for every client.
    const copy = mkdtempSync(join(tmpdir(), 'go-key-'));
    try {
      cpSync(goClientsDir, copy, { recursive: true, filter: (p) => !p.endsWith('.ts') });
      const before = Object.fromEntries(goClients.map((c) => [c, goBuildHash(join(copy, c), 'go1.26.8')]));
      expect(before['franz-go']).toBe(h);
      writeFileSync(join(copy, 'franz-go', 'extra.go'), 'package main\n');
      expect(goBuildHash(join(copy, 'franz-go'), 'go1.26.8')).not.toBe(h);
      expect(goBuildHash(join(copy, 'sarama'), 'go1.26.8')).toBe(before['sarama']);
      writeFileSync(join(copy, 'driverkit', 'extra.go'), 'package driverkit\n');
      for (const c of goClients) expect(goBuildHash(join(copy, c), 'go1.26.8'), c).not.toBe(before[c]);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('reads "not run: go not found" when there is no go', async () => {
    expect(await probeGoVersion('/nonexistent/bin/go')).toBeUndefined();
    expect(GO_NOT_FOUND).toMatch(/^not run: go not found/);
    // Here go is installed: the registry entry is available.
    expect(await probeGoVersion(process.env.KOPC_GO ?? 'go')).toMatch(/^go\d+\.\d+/);
    expect(await goUnavailable()).toBeUndefined();
    expect(await goClientEntry('franz-go').unavailable!()).toBeUndefined();
  });

  it('builds once into the cache; concurrent callers share the binary and leave no scratch behind', async () => {
    const [a, b] = await Promise.all([buildGoDriver('franz-go'), buildGoDriver('franz-go')]);
    expect(a.binary).toBe(b.binary);
    expect(a.binary.startsWith(join(cacheDir, 'go-drivers', 'franz-go-'))).toBe(true);
    expect(existsSync(a.binary)).toBe(true);
    progress('franz-go build', a.buildMs ? `cold build ${a.buildMs} ms` : 'cached binary');
    expect(readdirSync(join(cacheDir, 'go-drivers')).filter((d) => d.startsWith('.build-franz-go-'))).toEqual([]);
  }, 900_000);
});

describe('go driver watchdog', () => {
  async function spawnDriver(parentPid: number) {
    const { binary } = await buildGoDriver('franz-go');
    const child = execa(binary, [], { env: { KOPC_PARENT_PID: String(parentPid) }, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', reject: false, buffer: false });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
    await pollUntil('franz-go startup_complete', async () => {
      if (!out.includes('"startup_complete"')) throw new Error('not yet');
    }, { timeoutMs: 30_000, intervalMs: 50 });
    const ev = JSON.parse(out.split('\n')[0]!) as { client: string; version: string; capabilities: string[] };
    return { child, ev };
  }

  it('prints one startup_complete and exits 0 when its parent process is gone', async () => {
    const parent = execa('sleep', ['60'], { reject: false });
    const { child, ev } = await spawnDriver(parent.pid!);
    expect(ev).toMatchObject({ client: 'franz-go', version: '1.22.3' });
    expect(isAlive(child.pid!)).toBe(true);
    parent.kill('SIGKILL');
    await parent;
    const t0 = Date.now();
    const r = await child;
    expect(r.exitCode).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5_000);
  }, 900_000);

  it('exits 0 when stdin ends, and on SIGTERM', async () => {
    const a = await spawnDriver(process.pid);
    a.child.stdin!.end();
    expect((await a.child).exitCode).toBe(0);
    const b = await spawnDriver(process.pid);
    b.child.kill('SIGTERM');
    expect((await b.child).exitCode).toBe(0);
  }, 900_000);

  it('answers an unknown op with UNSUPPORTED_SETTING and ignores a line that is not JSON', async () => {
    const { child } = await spawnDriver(process.pid);
    let out = '';
    child.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
    child.stdin!.write('not json\n{"id":7,"op":"no_such_op"}\n{"id":8,"op":"shutdown"}\n');
    expect((await child).exitCode).toBe(0);
    const events = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events[0]).toMatchObject({ event: 'result', id: 7, ok: false, error: { code: 'UNSUPPORTED_SETTING' } });
    expect(events[1]).toMatchObject({ event: 'result', id: 8, ok: true });
  }, 900_000);
});

let target: StartedTarget;
let wrongCaPem: string;

describe.each(goClients)('%s against kafka', (client) => {
  let driver: ExternalDriverHandle & { startupMs: number };

  beforeAll(async () => {
    target ??= await startKafkaBroker();
    if (!wrongCaPem) {
      const wrong = await generateTls(ensureDir(join(workDir, `go-wrong-ca-${process.pid}-${Date.now().toString(36)}`)), { caName: 'not the broker CA' });
      wrongCaPem = wrong.caPemPath;
    }
    driver = await startGoDriver(client);
    progress(`${client}: startup`, `${driver.startupMs} ms spawn → startup_complete (version ${driver.version})`);
  }, 900_000);

  afterAll(async () => {
    await driver?.close();
  }, 30_000);

  const conn = (over: Partial<Connection> = {}): Connection => ({
    target, protocol: 'SASL_PLAINTEXT', principal: target.principals[0]!, ...over,
  });
  const newTopic = (what: string) => `${target.topics.globalPrefix}go-${what}-${randomBytes(5).toString('hex')}`;
  const newGroup = (what: string) => `go-${what}-${randomBytes(5).toString('hex')}`;
  const has = (...caps: Capability[]) => caps.every((c) => driver.capabilities.has(c));

  async function codeOf(p: Promise<unknown>): Promise<string> {
    try {
      await p;
    } catch (err) {
      if (err instanceof ClientError) return err.code;
      throw err;
    }
    return 'NO_ERROR';
  }

  async function pollSession(session: ConsumerSession, done: (seen: InRecord[], a: TopicPartition[]) => boolean, ms = 60_000) {
    const seen: InRecord[] = [];
    let assignment: TopicPartition[] = [];
    const deadline = Date.now() + ms;
    while (!done(seen, assignment) && Date.now() < deadline) {
      const t0 = Date.now();
      const r = await session.poll(1_000);
      // The protocol's bound on one poll: timeout_ms + 5 s.
      expect(Date.now() - t0).toBeLessThan(6_000);
      seen.push(...r.records);
      assignment = r.assignment;
    }
    return { seen, assignment };
  }

  it('reports its version and capabilities, and starts within the bound', () => {
    expect(driver.version).toMatch(/^\d+\.\d+/);
    expect([...driver.capabilities]).toEqual(expect.arrayContaining(['headers', 'admin.createTopics']));
    expect(driver.startupMs).toBeLessThan(30_000);
  });

  it('logs in over SASL_PLAINTEXT, SASL_SSL trusting the target CA, and SASL_SSL with verification off', async () => {
    await driver.checkLogin(conn());
    await driver.checkLogin(conn({ protocol: 'SASL_SSL' }));
    await driver.checkLogin(conn({ protocol: 'SASL_SSL', verifyTls: false }));
  });

  it.each(['SASL_PLAINTEXT', 'SASL_SSL'] as const)('refuses a forged password over %s with SASL_AUTHENTICATION_FAILED within 10 s', async (protocol) => {
    const t0 = Date.now();
    const code = await codeOf(driver.checkLogin(conn({ protocol, password: target.forgedPasswords![0]! })));
    const ms = Date.now() - t0;
    progress(`${client}: forged password over ${protocol}`, `${code} after ${ms} ms`);
    expect(code).toBe('SASL_AUTHENTICATION_FAILED');
    expect(ms).toBeLessThan(10_000);
  });

  it('fails the TLS handshake against an untrusted CA', async () => {
    expect(await codeOf(driver.checkLogin(conn({ protocol: 'SASL_SSL', caPemPath: wrongCaPem })))).toBe('TLS_HANDSHAKE_FAILED');
  });

  it('never prints the password, on stdout events or stderr', async () => {
    const secret = target.forgedPasswords![0]!;
    await codeOf(driver.checkLogin(conn({ password: secret })));
    expect(driver.stderrTail()).not.toContain(secret);
  });

  it('produces keyed records with headers to chosen partitions and consumes them back', async () => {
    const topic = newTopic('rt');
    await driver.createTopics(conn(), [{ name: topic, partitions: 2 }]);
    const out = [0, 1, 2].map((i) => ({ key: `key-${i}`, value: `value-${i} ✓`, headers: { trace: `t-${i}`, client }, partition: i % 2 }));
    const produced = await driver.produce(conn({ protocol: 'SASL_SSL' }), topic, out);
    expect(produced.map((p) => p.partition)).toEqual([0, 1, 0]);
    const consumed = await driver.consume(conn(), { topics: [topic], groupId: newGroup('rt'), fromBeginning: true, count: 3, timeoutMs: 30_000 });
    expect(consumed).toHaveLength(3);
    const byKey = new Map(consumed.map((r) => [r.key, r]));
    out.forEach((o, i) => {
      expect(byKey.get(o.key)).toEqual({
        topic, partition: produced[i]!.partition, offset: produced[i]!.offset,
        key: o.key, value: o.value, headers: o.headers, timestamp: expect.stringMatching(/^\d+$/),
      });
    });
  }, 90_000);

  it('admin: lists and describes a topic, its configuration, a group and its committed offsets', async (ctx) => {
    if (!has('admin.listTopics', 'admin.describeTopics', 'admin.describeConfigs', 'admin.groups', 'admin.committedOffsets')) ctx.skip();
    const topic = newTopic('admin');
    await driver.createTopics(conn(), [{ name: topic, partitions: 3 }]);
    await pollUntil('created topic listed', async () => {
      if (!(await driver.listTopics!(conn())).includes(topic)) throw new Error(`not listed yet: ${topic}`);
    }, { timeoutMs: 20_000, intervalMs: 500 });
    expect(await driver.describeTopics!(conn(), [topic])).toEqual([{ name: topic, partitions: 3 }]);
    expect(await codeOf(driver.describeTopics!(conn(), [`${topic}-missing`]))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect((await driver.describeTopicConfig!(conn(), topic))['cleanup.policy']).toBe('delete');
    const groupId = newGroup('admin');
    await driver.produce(conn(), topic, [{ key: 'a', value: '1', partition: 0 }, { key: 'b', value: '2', partition: 2 }, { key: 'c', value: '3', partition: 2 }]);
    await driver.consume(conn(), { topics: [topic], groupId, fromBeginning: true, count: 3, timeoutMs: 30_000, commit: 'sync' });
    expect(await driver.listGroups!(conn())).toContain(groupId);
    expect(await driver.describeGroup!(conn(), groupId)).toEqual({ groupId, state: 'Empty', members: 0 });
    expect(await driver.committedOffsets!(conn(), groupId)).toEqual([{ topic, partition: 0, offset: '1' }, { topic, partition: 2, offset: '2' }]);
  }, 120_000);

  it('a consumer session polls, commits, seeks back and closes', async (ctx) => {
    if (!has('groups.session', 'consumer.seek')) ctx.skip();
    const topic = newTopic('session');
    const groupId = newGroup('session');
    await driver.createTopics(conn(), [{ name: topic, partitions: 2 }]);
    const produced = await driver.produce(conn(), topic, [0, 1, 2, 3].map((i) => ({ key: `k${i}`, value: `v${i}`, partition: i % 2 })));
    expect(produced.map((p) => `${p.partition}:${p.offset}`)).toEqual(['0:0', '1:0', '0:1', '1:1']);
    const session = await driver.openConsumer!(conn(), { topics: [topic], groupId, fromBeginning: true });
    try {
      const first = await pollSession(session, (seen, a) => seen.length >= 4 && a.length === 2);
      expect(first.assignment).toEqual([{ topic, partition: 0 }, { topic, partition: 1 }]);
      expect(first.seen.map((r) => `${r.partition}:${r.offset}:${r.key}`).sort()).toEqual(['0:0:k0', '0:1:k2', '1:0:k1', '1:1:k3']);
      expect(await session.commit()).toEqual([{ topic, partition: 0, offset: '2' }, { topic, partition: 1, offset: '2' }]);
      await session.seek(topic, 1, '0');
      const again = await pollSession(session, (seen) => seen.length >= 2, 30_000);
      expect(again.seen.map((r) => `${r.partition}:${r.offset}:${r.key}`)).toEqual(['1:0:k1', '1:1:k3']);
    } finally {
      await session.close();
    }
    expect(await driver.describeGroup!(conn(), groupId)).toMatchObject({ state: 'Empty', members: 0 });
    await session.close(); // an unknown handle is not an error
  }, 150_000);

  it('ends its process on close()', async () => {
    const pid = driver.pid;
    expect(isAlive(pid)).toBe(true);
    await driver.close();
    expect(isAlive(pid)).toBe(false);
  });
});

// Sarama's own shape: what it has and what it honestly lacks, and how the driver carries its
// answers (a SCRAM handshake passed through, acks=0, its own size check, a commit read back).
describe('sarama against kafka: its capabilities and answers', () => {
  let driver: ExternalDriverHandle & { startupMs: number };

  beforeAll(async () => {
    target ??= await startKafkaBroker();
    driver = await startGoDriver('sarama');
  }, 900_000);

  afterAll(async () => {
    await driver?.close();
  }, 30_000);

  const conn = (over: Partial<Connection> = {}): Connection => ({
    target, protocol: 'SASL_PLAINTEXT', principal: target.principals[0]!, ...over,
  });
  const newTopic = (what: string) => `${target.topics.globalPrefix}sarama-${what}-${randomBytes(5).toString('hex')}`;
  const newGroup = (what: string) => `sarama-${what}-${randomBytes(5).toString('hex')}`;

  async function failure(p: Promise<unknown>): Promise<{ code: string; raw: string; ms: number }> {
    const t0 = Date.now();
    const err = await p.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    return { code: (err as ClientError).code, raw: (err as ClientError).raw, ms: Date.now() - t0 };
  }

  it('announces the version pinned in go.mod and only what Sarama has', () => {
    expect(driver.version).toBe('1.61.1');
    expect([...driver.capabilities]).toEqual(expect.arrayContaining(['transactions', 'groups.session', 'commit.auto', 'produce.idempotent', 'compression.zstd', 'timestamps']));
    // No asynchronous commit call, no seek on a ConsumerGroup claim, no public version table.
    for (const lacking of ['commit.async', 'consumer.seek', 'api.versions', 'tls.serverName'] as const) expect(driver.capabilities.has(lacking)).toBe(false);
  });

  it('passes a SCRAM mechanism through: Kafka refuses the handshake with UNSUPPORTED_SASL_MECHANISM, quickly', async () => {
    const r = await failure(driver.checkLogin(conn({ saslMechanism: 'SCRAM-SHA-256' })));
    expect(r.code, r.raw).toBe('UNSUPPORTED_SASL_MECHANISM');
    expect(r.ms).toBeLessThan(4_000);
  });

  it('acks=0 answers offset -1 and the records arrive; an asynchronous commit is UNSUPPORTED_SETTING', async () => {
    const topic = newTopic('acks0');
    await driver.createTopics(conn(), [{ name: topic, partitions: 1 }]);
    const sent = await driver.produce(conn(), topic, [{ key: 'a', value: '1' }, { key: 'b', value: '2' }], { acks: 0 });
    expect(sent.map((s) => s.offset)).toEqual(['-1', '-1']);
    const got = await driver.consume(conn(), { topics: [topic], groupId: newGroup('acks0'), fromBeginning: true, count: 2, timeoutMs: 30_000, commit: 'none' });
    expect(got.map((r) => r.value)).toEqual(['1', '2']);
    const r = await failure(driver.consume(conn(), { topics: [topic], groupId: newGroup('async'), fromBeginning: true, count: 1, timeoutMs: 10_000, commit: 'async' }));
    expect(r.code, r.raw).toBe('UNSUPPORTED_SETTING');
  }, 90_000);

  it('a record over Producer.MaxMessageBytes fails with RECORD_TOO_LARGE before it is sent', async () => {
    const topic = newTopic('big');
    await driver.createTopics(conn(), [{ name: topic, partitions: 1 }]);
    const r = await failure(driver.produce(conn(), topic, [{ key: 'big', value: 'x'.repeat(2_000_000) }]));
    expect(r.code, r.raw).toBe('RECORD_TOO_LARGE');
  }, 60_000);

  it('a session commit is what the group then holds (read back), and a new member resumes there', async () => {
    const topic = newTopic('commit');
    const groupId = newGroup('commit');
    await driver.createTopics(conn(), [{ name: topic, partitions: 1 }]);
    await driver.produce(conn(), topic, [0, 1, 2, 3].map((i) => ({ key: `k${i}`, value: `v${i}` })));
    const session = await driver.openConsumer!(conn(), { topics: [topic], groupId, fromBeginning: true });
    const seen: InRecord[] = [];
    try {
      await pollUntil('sarama session: 4 records', async () => {
        seen.push(...(await session.poll(1_000)).records);
        if (seen.length < 4) throw new Error(`${seen.length} of 4 records so far`);
      }, { timeoutMs: 60_000, intervalMs: 0 });
      expect(await session.commit()).toEqual([{ topic, partition: 0, offset: '4' }]);
    } finally {
      await session.close();
    }
    expect(await driver.committedOffsets!(conn(), groupId)).toEqual([{ topic, partition: 0, offset: '4' }]);
    await driver.produce(conn(), topic, [{ key: 'k4', value: 'v4' }]);
    const next = await driver.consume(conn(), { topics: [topic], groupId, fromBeginning: true, count: 1, timeoutMs: 30_000 });
    expect(next.map((r) => r.value)).toEqual(['v4']);
  }, 150_000);
});

afterAll(async () => {
  await target?.stop();
}, 60_000);

// Faults on the network path, injected by a real TCP proxy (toxiproxy, harness/util/toxiproxy.ts)
// between client and broker. A target offers a proxied SASL_PLAINTEXT listener (TargetInfo.proxied):
// the broker advertises the proxy's address in Metadata, so a client that reconnects to the
// advertised address stays behind the proxy. Judged by the one delivery checker: an acknowledged
// record never consumed is a failure; duplicates without idempotence are allowed and recorded.
// Run for a few clients whose runtimes differ (CI time): the fault windows are short.
import { afterAll, expect } from 'vitest';
import { forEachTargetForClients, type Names } from '../../fixtures/conformance.js';
import { ClientError } from '../../harness/errors/canonical.js';
import { acknowledged, expectDelivery, type DeliveryRecord } from '../../harness/util/delivery.js';
import { recordRetry } from '../../harness/util/retry-log.js';
import { startToxiproxy, type Toxiproxy } from '../../harness/util/toxiproxy.js';
import type { ClientDriver, Connection, InRecord, OutRecord } from '../../harness/clients/types.js';
import type { TargetInfo } from '../../harness/targets/types.js';

const FAULT_CLIENTS = ['kafkajs', 'java-4.4.0', 'confluent-kafka', 'kafka-python-3.0.12'];

/**
 * How long the proxy refuses connections during a reset. A reset, not an outage: with 1 s,
 * KafkaJS's session consumer gave up (ECONNREFUSED after the driver's 3 retries, ~1.4 s).
 */
const RESET_WINDOW_MS = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// One toxiproxy-server for this file (its tests run one after the other), one proxy per target,
// listening on the port the target advertises for its proxied listener.
let server: Promise<Toxiproxy> | undefined;
const proxies = new Map<string, Promise<string>>();

afterAll(async () => {
  const s = await server?.catch(() => undefined);
  await s?.stop();
});

interface FaultPath {
  tp: Toxiproxy;
  /** The proxy's name. */
  proxy: string;
  /** The target as a client behind the proxy sees it: one SASL_PLAINTEXT listener, the advertised one. */
  behind: TargetInfo;
}

async function faultPath(target: TargetInfo, skip: (note?: string) => never): Promise<FaultPath> {
  const p = target.proxied;
  if (!p) skip(`not applicable: ${target.proxiedUnavailable ?? `target ${target.id} offers no proxied listener`}`);
  server ??= startToxiproxy();
  const tp = await server;
  let made = proxies.get(target.id);
  if (!made) {
    made = (async () => {
      const name = `kopc-${target.id}`;
      await tp.createProxy({ name, listen: `${p.advertised.host}:${p.advertised.port}`, upstream: `${p.upstream.host}:${p.upstream.port}` });
      return name;
    })();
    proxies.set(target.id, made);
  }
  const proxy = await made;
  await tp.reset();
  return { tp, proxy, behind: { ...target, listeners: [{ securityProtocol: 'SASL_PLAINTEXT', host: p.advertised.host, port: p.advertised.port }] } };
}

/**
 * Every connection through the proxy reset: disabled (toxiproxy closes each connection and stops
 * listening) for `ms`, every toxic removed, enabled again.
 */
async function cutConnections(f: FaultPath, ms: number): Promise<void> {
  await f.tp.setEnabled(f.proxy, false);
  for (const t of await f.tp.toxics(f.proxy)) await f.tp.removeToxic(f.proxy, t);
  await sleep(ms);
  await f.tp.setEnabled(f.proxy, true);
}

async function topicFor(driver: ClientDriver, conn: Connection, names: Names, base: string): Promise<string> {
  const topic = names.globalTopic(base);
  if (driver.capabilities.has('admin.createTopics')) await driver.createTopics(conn, [{ name: topic, partitions: 1 }]);
  return topic;
}

const batch = (tag: string, n: number): OutRecord[] => Array.from({ length: n }, (_, i) => ({ key: `k-${tag}`, value: `${tag}-${String(i).padStart(3, '0')}` }));

/**
 * Produces `records` with acks=all as an application does under faults: a call refused with a
 * canonical error is sent again (at most 4 attempts, 1 s apart), each retry recorded on the cell.
 * Records of a refused call may have been stored: sent again, they are allowed duplicates.
 */
async function produceRetrying(driver: ClientDriver, conn: Connection, topic: string, records: OutRecord[]): Promise<DeliveryRecord[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return acknowledged(records, await driver.produce(conn, topic, records, { acks: -1 }));
    } catch (err) {
      if (!(err instanceof ClientError) || attempt >= 4) throw err;
      recordRetry(`faults: produce attempt ${attempt} refused with ${err.code}; sent again`);
      await sleep(1000);
    }
  }
}

forEachTargetForClients('faults', FAULT_CLIENTS, (declare, _client, slot) => {
  // A started target without a proxied listener: not applicable, decided before any driver or login.
  const unavailable = slot.state === 'started' && !slot.info.proxied
    ? `not applicable: ${slot.info.proxiedUnavailable ?? `target ${slot.id} offers no proxied listener`}` : undefined;
  const scenario: typeof declare = (name, fn) => declare(name, unavailable ? ({ skip }) => skip(unavailable) : fn);

  scenario('faults.connection-reset: connections cut mid-produce and mid-consume; the client reconnects and nothing acknowledged is lost', async ({ target, driver, connection, names, requires, skip }) => {
    requires('groups.session');
    const f = await faultPath(target, skip);
    const direct = connection('SASL_PLAINTEXT');
    const conn: Connection = { ...direct, target: f.behind };
    const topic = await topicFor(driver, direct, names, 'reset');
    const acked: DeliveryRecord[] = [];
    acked.push(...await produceRetrying(driver, conn, topic, batch('a', 10)));

    // Mid-produce: the broker's answers are held back (a `timeout` toxic, nothing passes
    // downstream), so the call is surely waiting when every connection is cut.
    await f.tp.addToxic(f.proxy, { name: 'hold-answers', type: 'timeout', stream: 'downstream', attributes: { timeout: 0 } });
    let answered = false;
    const inFlight = produceRetrying(driver, conn, topic, batch('b', 10)).finally(() => { answered = true; });
    inFlight.catch(() => undefined);
    // The produce gets 1.5 s to send its batch into the held path; it must still be waiting
    // when the connections are cut, or this would not be a cut mid-produce.
    await sleep(1500);
    expect(answered, 'the produce is still waiting for its answers when every connection is cut').toBe(false);
    await cutConnections(f, RESET_WINDOW_MS);
    acked.push(...await inFlight);

    // Mid-consume: a member behind the proxy has read, its connections are cut, it reads on.
    const consumed: InRecord[] = [];
    const session = await driver.openConsumer!(conn, { topics: [topic], groupId: names.group('reset'), fromBeginning: true });
    try {
      const seen = () => new Set(consumed.map((r) => r.value));
      const pollUntil = async (want: DeliveryRecord[], ms: number) => {
        const deadline = Date.now() + ms;
        while (!want.every((a) => seen().has(a.value)) && Date.now() < deadline) {
          consumed.push(...(await session.poll(2000)).records);
        }
      };
      await pollUntil(acked.slice(0, 1), 30_000);
      expect(consumed.length, 'the member read before the cut').toBeGreaterThan(0);
      await cutConnections(f, RESET_WINDOW_MS);
      // Written while the member reconnects (not through the proxy: the producer is not under test here).
      acked.push(...acknowledged(batch('c', 5), await driver.produce(direct, topic, batch('c', 5), { acks: -1 })));
      await pollUntil(acked, 30_000);
    } finally {
      await session.close().catch(() => undefined);
    }
    expectDelivery(acked, consumed);
  });

  scenario('faults.latency: 200 ms ± 50 ms on every answer; produce and consume finish within their timeouts, in order', async ({ target, driver, connection, names, skip }) => {
    const f = await faultPath(target, skip);
    const direct = connection('SASL_PLAINTEXT');
    const conn: Connection = { ...direct, target: f.behind };
    const topic = await topicFor(driver, direct, names, 'latency');
    await f.tp.addToxic(f.proxy, { name: 'latency', type: 'latency', stream: 'downstream', attributes: { latency: 200, jitter: 50 } });
    const records = batch('l', 10);
    const t0 = Date.now();
    // The drivers' own timeouts (10-30 s per request) bound each call; a ClientError fails the cell.
    const acks = await driver.produce(conn, topic, records, { acks: -1 });
    const produceMs = Date.now() - t0;
    const got = await driver.consume(conn, { topics: [topic], groupId: names.group('latency'), fromBeginning: true, count: records.length, timeoutMs: 30_000 });
    // The proxy was on the path: at least one answer each way waited 150 ms or more.
    expect(produceMs, 'produce through a 200 ms path').toBeGreaterThanOrEqual(150);
    expectDelivery(acknowledged(records, acks), got);
  });

  scenario('faults.broker-gone: the broker stops answering; a consume fails with a canonical error within its bound, and the client recovers', async ({ target, driver, connection, names, skip }) => {
    const f = await faultPath(target, skip);
    const direct = connection('SASL_PLAINTEXT');
    const conn: Connection = { ...direct, target: f.behind };
    const topic = await topicFor(driver, direct, names, 'gone');
    const records = batch('g', 3);
    const acks = await driver.produce(direct, topic, records, { acks: -1 });
    // Nothing passes either way; connections stay open (a `timeout` toxic with timeout 0).
    for (const stream of ['upstream', 'downstream'] as const) {
      await f.tp.addToxic(f.proxy, { name: `gone-${stream}`, type: 'timeout', stream, attributes: { timeout: 0 } });
    }
    const boundMs = 6000;
    const t0 = Date.now();
    const err = await driver.consume(conn, { topics: [topic], groupId: names.group('gone'), fromBeginning: true, count: records.length, timeoutMs: boundMs })
      .then(() => undefined, (e: unknown) => e);
    const tookMs = Date.now() - t0;
    expect(err, 'a consume from a broker that does not answer must fail').toBeInstanceOf(ClientError);
    const code = (err as ClientError).code;
    expect(['CLIENT_CRASHED', 'UNKNOWN'], `canonical code, got ${code}: ${(err as ClientError).raw}`).not.toContain(code);
    // The call's bound plus the out-of-process drivers' reply margin.
    expect(tookMs, `failed after ${tookMs} ms`).toBeLessThanOrEqual(boundMs + 15_000);
    // The broker answers again: the same driver reads the records through the proxy.
    await f.tp.reset();
    const got = await driver.consume(conn, { topics: [topic], groupId: names.group('back'), fromBeginning: true, count: records.length, timeoutMs: 30_000 });
    expectDelivery(acknowledged(records, acks), got);
  });
});

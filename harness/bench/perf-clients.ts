// The bench's side of each client: generate and send N records of S bytes, read them back, and
// measure end-to-end latency at a fixed rate, inside the client's own runtime. External drivers
// do it through PROTOCOL.md's bench operations (perf_produce, perf_consume, perf_latency), so no
// record crosses the JSON-lines channel; KafkaJS does the same in process, here.
import type { Consumer, Kafka, Producer } from 'kafkajs';
import { kafkaJs } from '../clients/kafkajs/connection.js';
import { wireConnection, type ExternalDriverHandle } from '../clients/external/external-driver.js';
import type { ClientDriver, Connection } from '../clients/types.js';

export interface ProduceResult { records: number; elapsedMs: number; recordsPerSec: number; mbPerSec: number }
export interface ConsumeResult extends ProduceResult { bytes: number; totalMs: number }
export interface LatencyResult { sent: number; received: number; latenciesUs: number[] }

/** A produce sends one warm-up record first (acknowledged before the clock starts): the topic then holds records + 1. */
export interface PerfRequest { topic: string; records: number; size: number }
export interface LatencyRequest { topic: string; groupId: string; rate: number; durationMs: number; size: number }

/** What the bench asks of a client; every call opens its own clients and closes them. */
export interface PerfClient {
  id: string;
  version: string;
  createTopic(conn: Connection, topic: string): Promise<void>;
  produce(conn: Connection, req: PerfRequest): Promise<ProduceResult>;
  consume(conn: Connection, req: PerfRequest & { groupId: string; timeoutMs: number }): Promise<ConsumeResult>;
  latency(conn: Connection, req: LatencyRequest): Promise<LatencyResult>;
  close(): Promise<void>;
  /** Ends the client at once (Ctrl-C). */
  kill(): void;
}

/** The value prefix of a latency record: send time, 16 ASCII digits of epoch microseconds. */
export const STAMP_LEN = 16;

/** `size` bytes of A..Z: the payload every driver sends. */
export function payload(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = 65 + (i % 26);
  return b;
}

export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** Bound on one bench call: generous, scaled by the work asked for. */
export function benchTimeoutMs(records: number, durationMs = 0): number {
  return 120_000 + records * 2 + durationMs;
}

type Wire<T> = Record<string, number> & T;

export function externalPerfClient(driver: ExternalDriverHandle): PerfClient {
  return {
    id: driver.id,
    version: driver.version,
    createTopic: (conn, topic) => driver.createTopics(conn, [{ name: topic, partitions: 1 }]),
    async produce(conn, req) {
      const d = await driver.request<Wire<object>>('perf_produce', {
        conn: wireConnection(conn), topic: req.topic, num_records: req.records, record_size: req.size, acks: 'all', warmup: true,
      }, benchTimeoutMs(req.records));
      if (d.failed) throw new Error(`${d.failed} of ${req.records} sends failed`);
      return { records: d.records!, elapsedMs: d.elapsed_ms!, recordsPerSec: d.records_per_sec!, mbPerSec: d.mb_per_sec! };
    },
    async consume(conn, req) {
      const d = await driver.request<Wire<object>>('perf_consume', {
        conn: wireConnection(conn), topic: req.topic, group_id: req.groupId, num_records: req.records, timeout_ms: req.timeoutMs,
      }, req.timeoutMs + 15_000);
      return { records: d.records!, bytes: d.bytes!, elapsedMs: d.elapsed_ms!, totalMs: d.total_ms!, recordsPerSec: d.records_per_sec!, mbPerSec: d.mb_per_sec! };
    },
    async latency(conn, req) {
      const d = await driver.request<{ sent: number; received: number; latencies_us: number[] }>('perf_latency', {
        conn: wireConnection(conn), topic: req.topic, group_id: req.groupId, rate: req.rate, duration_ms: req.durationMs,
        record_size: req.size, acks: 'all',
      }, benchTimeoutMs(0, req.durationMs));
      return { sent: d.sent, received: d.received, latenciesUs: d.latencies_us };
    },
    close: () => driver.close(),
    kill: () => {
      try {
        process.kill(driver.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function kafkaOf(conn: Connection, clientId: string): Kafka {
  return kafkaJs(conn.target, { protocol: conn.protocol, principal: conn.principal, clientId, requestTimeout: 30_000 });
}

/** Waits for `what` at most `ms`, naming it on timeout. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`TIMEOUT: ${what} within ${ms} ms`)), ms); }),
  ]);
}

/** KafkaJS, in process: the same three measurements with the same definitions as the drivers. */
export function kafkaJsPerfClient(driver: ClientDriver): PerfClient {
  const open = new Set<Producer | Consumer>();
  const track = <T extends Producer | Consumer>(c: T) => { open.add(c); return c; };
  const drop = async (c: Producer | Consumer) => { open.delete(c); await c.disconnect().catch(() => undefined); };
  return {
    id: driver.id,
    version: driver.version,
    createTopic: (conn, topic) => driver.createTopics(conn, [{ name: topic, partitions: 1 }]),
    async produce(conn, req) {
      const producer = track(kafkaOf(conn, 'kop-conformance-bench').producer({ allowAutoTopicCreation: false }));
      try {
        await producer.connect();
        const value = payload(req.size);
        await producer.send({ topic: req.topic, acks: -1, messages: [{ value }] }); // warm-up, outside the clock
        // Batches of 500 records, up to 5 of them in flight: KafkaJS's own way to keep a connection busy.
        const batch = 500;
        const inflight = new Set<Promise<unknown>>();
        const t0 = performance.now();
        for (let sent = 0; sent < req.records; sent += batch) {
          const n = Math.min(batch, req.records - sent);
          const p: Promise<unknown> = producer.send({ topic: req.topic, acks: -1, messages: Array.from({ length: n }, () => ({ value })) })
            .finally(() => inflight.delete(p));
          inflight.add(p);
          if (inflight.size >= 5) await Promise.race(inflight);
        }
        await Promise.all(inflight);
        const s = (performance.now() - t0) / 1000;
        return { records: req.records, elapsedMs: s * 1000, recordsPerSec: req.records / s, mbPerSec: (req.records * req.size) / 1048576 / s };
      } finally {
        await drop(producer);
      }
    },
    async consume(conn, req) {
      const consumer = track(kafkaOf(conn, 'kop-conformance-bench').consumer({ groupId: req.groupId, sessionTimeout: 10_000, heartbeatInterval: 3000 }));
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: [req.topic], fromBeginning: true });
        const tStart = performance.now();
        let assignedAt = 0;
        consumer.on(consumer.events.GROUP_JOIN, () => { assignedAt ||= performance.now(); });
        let got = 0, bytes = 0, tLast = tStart;
        let done!: () => void;
        const finished = new Promise<void>((r) => { done = r; });
        await consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            if (!batch.messages.length) return;
            tLast = performance.now();
            bytes += batch.messages.reduce((a, m) => a + (m.value?.length ?? 0), 0);
            got += batch.messages.length;
            if (got >= req.records) done();
          },
        });
        await within(finished, req.timeoutMs, `consumed ${req.records} records`);
        const s = Math.max(1e-9, (tLast - (assignedAt || tStart)) / 1000);
        return { records: got, bytes, elapsedMs: s * 1000, totalMs: tLast - tStart, recordsPerSec: got / s, mbPerSec: bytes / 1048576 / s };
      } finally {
        await drop(consumer);
      }
    },
    async latency(conn, req) {
      if (req.size < STAMP_LEN) throw new Error(`latency records need at least ${STAMP_LEN} bytes`);
      const kafka = kafkaOf(conn, 'kop-conformance-bench');
      const consumer = track(kafka.consumer({ groupId: req.groupId, sessionTimeout: 10_000, heartbeatInterval: 1000, maxWaitTimeInMs: 100 }));
      const producer = track(kafka.producer({ allowAutoTopicCreation: false }));
      try {
        await Promise.all([consumer.connect(), producer.connect()]);
        await consumer.subscribe({ topics: [req.topic], fromBeginning: true });
        const n = Math.max(1, Math.floor((req.rate * req.durationMs) / 1000));
        const latencies: number[] = [];
        let allIn!: () => void;
        const received = new Promise<void>((r) => { allIn = r; });
        let joined!: () => void;
        const assigned = new Promise<void>((r) => { joined = r; });
        consumer.on(consumer.events.GROUP_JOIN, () => joined());
        let warmed!: () => void;
        const warm = new Promise<void>((r) => { warmed = r; });
        await consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const now = nowMicros();
            for (const m of batch.messages) {
              const stamp = Number(m.value!.subarray(0, STAMP_LEN).toString('ascii'));
              if (stamp) latencies.push(now - stamp);
              else warmed();
            }
            if (latencies.length >= n) allIn();
          },
        });
        await within(assigned, 30_000, 'a partition assigned to the latency consumer');
        const filler = payload(req.size).subarray(STAMP_LEN);
        // One warm-up record (stamp 0) goes round first, so the fetch path is running when the clock does.
        await producer.send({ topic: req.topic, acks: -1, messages: [{ value: Buffer.concat([Buffer.from('0'.repeat(STAMP_LEN), 'ascii'), filler]) }] });
        await within(warm, 30_000, 'the warm-up latency record back');
        const sends: Promise<unknown>[] = [];
        const t0 = performance.now();
        for (let i = 0; i < n;) {
          // Every record that is due goes out now; then sleep until the next one is.
          while (i < n && t0 + (i * 1000) / req.rate <= performance.now()) {
            const value = Buffer.concat([Buffer.from(String(nowMicros()).padStart(STAMP_LEN, '0'), 'ascii'), filler]);
            sends.push(producer.send({ topic: req.topic, acks: -1, messages: [{ value }] }));
            i++;
          }
          if (i < n) await sleep(Math.max(0, t0 + (i * 1000) / req.rate - performance.now()));
        }
        await Promise.all(sends);
        await within(received, 30_000, `received ${n} latency records`);
        return { sent: n, received: latencies.length, latenciesUs: latencies.slice(0, n) };
      } finally {
        await Promise.all([drop(consumer), drop(producer)]);
      }
    },
    async close() {
      await Promise.all([...open].map((c) => drop(c)));
      await driver.close();
    },
    kill() {
      for (const c of open) void c.disconnect().catch(() => undefined);
      open.clear();
    },
  };
}

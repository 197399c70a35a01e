// The parent side of PROTOCOL.md: one long-lived driver process, JSON commands on its stdin,
// JSON events on its stdout, logs on its stderr. Every request is bounded; a driver that
// crashes, hangs or prints garbage fails the pending request with its stderr attached.
import { execa } from 'execa';
import { ClientError } from '../../errors/canonical.js';
import { apiName, type ApiRange } from '../../protocol/api-versions.js';
import { redact } from '../../security/redact.js';
import { recordRetry } from '../../util/retry-log.js';
import { bootstrap } from '../../targets/types.js';
import { addressOf, type Capability, type ClientDriver, type CommittedOffset, type Connection, type ConsumeRequest, type ConsumerSession, type GroupDescription, type InRecord, type OpenConsumerRequest, type OutRecord, type ProduceOptions, type ProducedRecord, type TopicPartition, type TransactionalProducer } from '../types.js';

export interface ExternalDriverSpec {
  /** Registry id, e.g. `java-kafka-clients-2.8.0`. */
  id: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Bound on the ready handshake (JVM start, imports). */
  startTimeoutMs?: number;
}

interface WireConn {
  bootstrap: string;
  security_protocol: string;
  sasl_mechanism?: string;
  username: string;
  password: string;
  ssl?: { verify: boolean; hostname_verification: boolean; ca_pem_path?: string; truststore_path?: string; truststore_password?: string; truststore_type?: string };
}

export function wireConnection(conn: Connection): WireConn {
  const l = addressOf(conn);
  const tls = conn.target.tls;
  const verify = conn.verifyTls ?? tls.verify;
  const caOverride = conn.caPemPath !== undefined;
  return {
    bootstrap: bootstrap(l),
    // Without SASL the same listener is addressed as PLAINTEXT / SSL (a negative test).
    security_protocol: conn.sasl === false ? (conn.protocol === 'SASL_SSL' ? 'SSL' : 'PLAINTEXT') : conn.protocol,
    ...(conn.sasl === false ? {} : { sasl_mechanism: conn.saslMechanism ?? 'PLAIN' }),
    username: conn.username ?? conn.principal.username,
    password: conn.password ?? conn.principal.password,
    ...(conn.protocol === 'SASL_SSL'
      ? {
          ssl: {
            verify,
            hostname_verification: verify && (conn.verifyTls !== undefined || tls.verifyHostname !== false),
            ca_pem_path: conn.caPemPath ?? tls.caPemPath,
            // A CA override has no truststore twin: drivers then build one from the PEM.
            ...(caOverride ? {} : { truststore_path: tls.truststorePath, truststore_password: tls.truststorePassword, truststore_type: 'PKCS12' }),
          },
        }
      : {}),
  };
}

interface Pending {
  resolve: (data: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  op: string;
}

export interface ExternalDriverHandle extends ClientDriver {
  readonly pid: number;
  /** Last lines the driver wrote to stderr (for reports). */
  stderrTail(): string;
  /** Sends a raw command (tests of the protocol itself). */
  request<T>(op: string, fields: Record<string, unknown>, timeoutMs: number): Promise<T>;
  /**
   * Calls `listener` with each optional progress event the driver prints (PROTOCOL.md, Events:
   * records_consumed, producer_send_success, offsets_committed) while a command runs; returns the
   * function that stops it. What a test waits on instead of a guessed sleep.
   */
  onProgress(listener: (ev: DriverProgress) => void): () => void;
}

export interface DriverProgress {
  event: 'records_consumed' | 'producer_send_success' | 'offsets_committed';
  /** The id of the command it belongs to. */
  id?: number;
  /** records_consumed: how many records the poll returned. */
  count?: number;
}

const PROGRESS_EVENTS = new Set<string>(['records_consumed', 'producer_send_success', 'offsets_committed']);

const STDERR_KEEP = 200;

export async function startExternalDriver(spec: ExternalDriverSpec): Promise<ExternalDriverHandle> {
  const child = execa(spec.command, spec.args, {
    cwd: spec.cwd,
    env: { ...spec.env, KOPC_PARENT_PID: String(process.pid) },
    stdin: 'pipe', stdout: 'pipe', stderr: 'pipe',
    reject: false, buffer: false, forceKillAfterDelay: 5000,
  });
  const stderrLines: string[] = [];
  const pending = new Map<number, Pending>();
  /**
   * Requests given up on (their timeout passed), by id, with their op: the driver may still answer
   * one late, on a busy machine. That answer is noted and dropped; only an answer to an id that
   * was never asked (or answered twice) breaks the protocol. Bounded: the oldest are forgotten.
   */
  const abandoned = new Map<number, string>();
  const ABANDONED_KEEP = 1000;
  let nextId = 1;
  let exited: string | undefined;
  let ready: { client: string; version: string; capabilities: string[] } | undefined;
  let onReady: ((v: typeof ready) => void) | undefined;
  let onStartFail: ((e: Error) => void) | undefined;

  const tail = () => redact(stderrLines.join('\n'));
  const failAll = (code: string, why: string) => {
    for (const [id, p] of pending) {
      clearTimeout(p.timer);
      pending.delete(id);
      p.reject(new ClientError(code, `${p.op}: ${why}\n--- driver stderr ---\n${tail()}`, spec.id));
    }
  };

  let errBuf = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    errBuf += chunk;
    const lines = errBuf.split('\n');
    errBuf = lines.pop() ?? '';
    stderrLines.push(...lines);
    if (stderrLines.length > STDERR_KEEP) stderrLines.splice(0, stderrLines.length - STDERR_KEEP);
  });

  const progressListeners = new Set<(ev: DriverProgress) => void>();
  let outBuf = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    outBuf += chunk;
    let i: number;
    while ((i = outBuf.indexOf('\n')) >= 0) {
      const line = outBuf.slice(0, i).trim();
      outBuf = outBuf.slice(i + 1);
      if (line) handleLine(line);
    }
  });

  function handleLine(line: string): void {
    let ev: { event?: string; id?: number; ok?: boolean; data?: unknown; error?: { code?: string; message?: string; class?: string }; client?: string; version?: string; capabilities?: string[] };
    try {
      ev = JSON.parse(line) as typeof ev;
    } catch {
      const why = `driver printed a line that is not JSON: ${redact(line.slice(0, 200))}`;
      stderrLines.push(`[parent] ${why}`);
      failAll('CLIENT_PROTOCOL_ERROR', why);
      onStartFail?.(new ClientError('CLIENT_PROTOCOL_ERROR', why, spec.id));
      return;
    }
    if (ev.event === 'startup_complete') {
      ready = { client: ev.client ?? spec.id, version: ev.version ?? 'unknown', capabilities: ev.capabilities ?? [] };
      onReady?.(ready);
      return;
    }
    if (ev.event === 'retry') {
      // A bounded retry the driver made of an error its client's docs call retriable: on the cell.
      recordRetry(redact(`${(ev as { what?: string }).what ?? 'a retriable error'} (${spec.id})`));
      return;
    }
    if (ev.event && PROGRESS_EVENTS.has(ev.event)) {
      for (const l of progressListeners) l(ev as DriverProgress);
      return;
    }
    if (ev.event !== 'result') return;
    const p = ev.id !== undefined ? pending.get(ev.id) : undefined;
    if (!p && ev.id !== undefined && abandoned.has(ev.id)) {
      stderrLines.push(`[parent] late result for id ${ev.id} (${abandoned.get(ev.id)}), after its timeout: dropped`);
      abandoned.delete(ev.id);
      return;
    }
    if (!p) {
      failAll('CLIENT_PROTOCOL_ERROR', `result for unknown id ${String(ev.id)}`);
      return;
    }
    pending.delete(ev.id!);
    clearTimeout(p.timer);
    if (ev.ok) p.resolve(ev.data ?? {});
    else {
      const e = ev.error ?? {};
      p.reject(new ClientError(e.code ?? 'UNKNOWN', redact(`${p.op}: ${e.class ? `${e.class}: ` : ''}${e.message ?? ''}`), spec.id));
    }
  }

  void child.then((r) => {
    exited = r.signal ? `signal ${r.signal}` : `exit code ${r.exitCode}`;
    failAll('CLIENT_CRASHED', `driver process ended (${exited})`);
    onStartFail?.(new ClientError('CLIENT_CRASHED', `driver exited (${exited}) before startup_complete\n${tail()}`, spec.id));
  });

  const startTimeout = spec.startTimeoutMs ?? 60_000;
  const info = await new Promise<NonNullable<typeof ready>>((resolveReady, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new ClientError('TIMEOUT', `no startup_complete from ${spec.id} within ${startTimeout} ms\n${tail()}`, spec.id));
    }, startTimeout);
    onReady = (v) => { clearTimeout(timer); resolveReady(v!); };
    onStartFail = (e) => { clearTimeout(timer); child.kill('SIGKILL'); reject(e); };
  });
  onStartFail = undefined;

  function request<T>(op: string, fields: Record<string, unknown>, timeoutMs: number): Promise<T> {
    if (exited) return Promise.reject(new ClientError('CLIENT_CRASHED', `${op}: driver already ended (${exited})\n${tail()}`, spec.id));
    const id = nextId++;
    return new Promise<T>((resolveReq, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        abandoned.set(id, op);
        if (abandoned.size > ABANDONED_KEEP) abandoned.delete(abandoned.keys().next().value!);
        reject(new ClientError('TIMEOUT', `${op}: no result from the ${spec.id} driver within ${timeoutMs} ms\n${tail()}`, spec.id));
      }, timeoutMs);
      pending.set(id, { resolve: resolveReq as (d: unknown) => void, reject, timer, op });
      child.stdin!.write(`${JSON.stringify({ id, op, ...fields })}\n`);
    });
  }

  // The driver bounds its own waits; the parent allows a margin above them.
  const margin = 15_000;
  const capabilities = new Set(info.capabilities as Capability[]);
  const admin = 30_000 + margin;
  const has = (c: Capability) => capabilities.has(c);
  // The driver-side handle of each consumer session, for txn_send_offsets.
  const sessionHandles = new WeakMap<ConsumerSession, string>();
  return {
    ...(has('admin.deleteTopics') ? {
      async deleteTopics(conn: Connection, topics: string[]) {
        await request('delete_topics', { conn: wireConnection(conn), topics }, admin);
      },
    } : {}),
    ...(has('api.versions') ? {
      async clientApiVersions() {
        return (await request<{ apis: ApiRange[] }>('client_api_versions', {}, admin)).apis.map((a) => ({ ...a, name: apiName(a.key) })).sort((a, b) => a.key - b.key);
      },
    } : {}),
    ...(has('admin.listTopics') ? {
      async listTopics(conn: Connection) {
        return (await request<{ topics: string[] }>('list_topics', { conn: wireConnection(conn) }, admin)).topics;
      },
    } : {}),
    ...(has('admin.describeTopics') ? {
      async describeTopics(conn: Connection, topics: string[]) {
        return (await request<{ topics: { name: string; partitions: number }[] }>('describe_topics', { conn: wireConnection(conn), topics }, admin)).topics;
      },
    } : {}),
    ...(has('admin.describeConfigs') ? {
      async describeTopicConfig(conn: Connection, topic: string) {
        return (await request<{ configs: Record<string, string | null> }>('describe_topic_config', { conn: wireConnection(conn), topic }, admin)).configs;
      },
    } : {}),
    ...(has('admin.groups') ? {
      async listGroups(conn: Connection) {
        return (await request<{ groups: string[] }>('list_groups', { conn: wireConnection(conn) }, admin)).groups;
      },
      async describeGroup(conn: Connection, groupId: string): Promise<GroupDescription> {
        const d = await request<{ group_id: string; state: string; members: number }>('describe_group', { conn: wireConnection(conn), group_id: groupId }, admin);
        return { groupId: d.group_id, state: d.state, members: d.members };
      },
    } : {}),
    ...(has('admin.committedOffsets') ? {
      async committedOffsets(conn: Connection, groupId: string) {
        return (await request<{ offsets: CommittedOffset[] }>('committed_offsets', { conn: wireConnection(conn), group_id: groupId }, admin)).offsets;
      },
    } : {}),
    ...(has('groups.session') ? {
      async openConsumer(conn: Connection, req: OpenConsumerRequest): Promise<ConsumerSession> {
        const { handle } = await request<{ handle: string }>('consumer_open', {
          conn: wireConnection(conn), topics: req.topics, group_id: req.groupId, from_beginning: req.fromBeginning,
          ...(req.isolationLevel ? { isolation_level: req.isolationLevel } : {}),
        }, admin);
        const session: ConsumerSession = {
          poll: (timeoutMs: number) => request<{ records: InRecord[]; assignment: TopicPartition[] }>('consumer_poll', { handle, timeout_ms: timeoutMs }, timeoutMs + margin),
          commit: async () => (await request<{ offsets: CommittedOffset[] }>('consumer_commit', { handle }, admin)).offsets,
          seek: async (topic: string, partition: number, offset: string) => {
            await request('consumer_seek', { handle, topic, partition, offset }, admin);
          },
          close: async () => {
            if (!exited) await request('consumer_close', { handle }, admin);
          },
        };
        sessionHandles.set(session, handle);
        return session;
      },
    } : {}),
    ...(has('transactions') ? {
      async openTransactionalProducer(conn: Connection, transactionalId: string): Promise<TransactionalProducer> {
        const { handle } = await request<{ handle: string }>('txn_producer_open', { conn: wireConnection(conn), transactional_id: transactionalId }, admin);
        const txn = async (op: string, fields: Record<string, unknown> = {}) => {
          await request(op, { handle, ...fields }, admin);
        };
        return {
          begin: () => txn('txn_begin'),
          send: async (topic: string, records: OutRecord[]) => (await request<{ records: ProducedRecord[] }>('txn_send', { handle, topic, records }, admin)).records,
          sendOffsets: async (consumer: ConsumerSession, offsets: CommittedOffset[]) => {
            const consumerHandle = sessionHandles.get(consumer);
            if (!consumerHandle) throw new Error(`${spec.id}: sendOffsets needs a consumer session opened on the same driver`);
            await txn('txn_send_offsets', { consumer_handle: consumerHandle, offsets });
          },
          commit: () => txn('txn_commit'),
          abort: () => txn('txn_abort'),
          close: async () => {
            if (!exited) await txn('txn_producer_close');
          },
        };
      },
    } : {}),
    id: spec.id,
    version: info.version,
    capabilities,
    pid: child.pid!,
    stderrTail: tail,
    request,
    onProgress(listener) {
      progressListeners.add(listener);
      return () => void progressListeners.delete(listener);
    },
    async checkLogin(conn) {
      await request('check_login', { conn: wireConnection(conn) }, 20_000 + margin);
    },
    async createTopics(conn, topics) {
      await request('create_topics', { conn: wireConnection(conn), topics }, 30_000 + margin);
    },
    async produce(conn, topic, records: OutRecord[], opts: ProduceOptions = {}): Promise<ProducedRecord[]> {
      const r = await request<{ records: ProducedRecord[] }>('produce', {
        conn: wireConnection(conn), topic, records,
        ...(opts.acks !== undefined ? { acks: opts.acks === -1 ? 'all' : String(opts.acks) } : {}),
        ...(opts.compression ? { compression: opts.compression } : {}),
        ...(opts.idempotent !== undefined ? { idempotence: opts.idempotent } : {}),
      }, 30_000 + margin);
      return r.records;
    },
    async consume(conn, req: ConsumeRequest): Promise<InRecord[]> {
      const r = await request<{ records: InRecord[] }>('consume', {
        conn: wireConnection(conn), topics: req.topics, group_id: req.groupId, from_beginning: req.fromBeginning,
        count: req.count, timeout_ms: req.timeoutMs, ...(req.commit ? { commit: req.commit } : {}),
        ...(req.isolationLevel ? { isolation_level: req.isolationLevel } : {}),
      }, req.timeoutMs + margin);
      return r.records;
    },
    async close() {
      if (exited) return;
      await request('shutdown', {}, 10_000).catch(() => undefined);
      const done = await Promise.race([child.then(() => true), new Promise((r) => setTimeout(() => r(false), 5000))]);
      if (!done) child.kill('SIGKILL');
    },
  };
}

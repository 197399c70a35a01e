import type { ApiRange } from '../protocol/api-versions.js';
// The one driver interface every client implements, in process (KafkaJS, kafka-node) or
// out of process (Java, Python, Fluent Bit over JSON lines). Scenarios talk only to this.
import { listenerFor, type Listener, type Principal, type SecurityProtocol, type TargetInfo } from '../targets/types.js';

/** Features a scenario may require; the client registry says which client has which. */
export type Capability =
  | 'headers'
  | 'admin.createTopics'
  | 'admin.deleteTopics'
  | 'groups.commit'
  /** The client's documented usage creates topics before consuming (the seed's kafka-node). */
  | 'requires.createTopicsFirst'
  /** The client can be told which TLS server name to expect (SNI / host-name check). */
  | 'tls.serverName'
  /** Produce settings the client exposes. */
  | 'produce.acks'
  | 'produce.idempotent'
  | 'compression.gzip'
  | 'compression.snappy'
  | 'compression.lz4'
  | 'compression.zstd'
  /** Record timestamps set by the producer and read back by the consumer. */
  | 'timestamps'
  /** Commit modes beyond a synchronous commit. */
  | 'commit.async'
  | 'commit.auto'
  /** Admin calls beyond creating and deleting topics (PROTOCOL.md, "Admin operations"). */
  | 'admin.listTopics'
  | 'admin.describeTopics'
  | 'admin.describeConfigs'
  | 'admin.groups'
  | 'admin.committedOffsets'
  /** A group member that lives across calls: poll, commit, see its assignment, close. */
  | 'groups.session'
  | 'consumer.seek'
  /** The client can say which API keys and versions it speaks (clientApiVersions). */
  | 'api.versions'
  /** Transactional producers (begin, send, sendOffsets, commit, abort) and read_committed consumers. */
  | 'transactions';

export interface Connection {
  target: TargetInfo;
  protocol: SecurityProtocol;
  principal: Principal;
  /** Overrides the principal's password (wrong-credential scenarios). */
  password?: string;
  /** Overrides the username (unknown tenant/fabric scenarios). */
  username?: string;
  /** SASL mechanism; default PLAIN. Another one tests the endpoint's refusal. */
  saslMechanism?: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
  /** false: connect without SASL at all (PLAINTEXT/SSL against a SASL listener). Default true. */
  sasl?: boolean;
  /** Address this listener instead of `protocol`'s own (a plaintext client on the TLS port, …). */
  listener?: SecurityProtocol;
  /** TLS server name to expect instead of the host connected to (host-name mismatch scenarios). */
  tlsServerName?: string;
  /** false: verification off as the seed's examples do it; default: the target's setting. */
  verifyTls?: boolean;
  /** CA to trust instead of the target's (wrong-CA scenarios). */
  caPemPath?: string;
}

/** The address a connection dials: its `listener` override, else its protocol's listener. */
export function addressOf(conn: Connection): Listener {
  return listenerFor(conn.target, conn.listener ?? conn.protocol);
}

export interface OutRecord {
  key: string | null;
  value: string | null;
  headers?: Record<string, string>;
  partition?: number;
  /** Producer timestamp, milliseconds since the epoch (decimal string). */
  timestamp?: string;
}

export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export interface ProduceOptions {
  /** 0, 1 or all (-1). Default all. */
  acks?: 0 | 1 | -1;
  compression?: Compression;
  idempotent?: boolean;
}

export interface ProducedRecord {
  topic: string;
  partition: number;
  offset: string;
}

export interface InRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  /** Record timestamp, milliseconds since the epoch (decimal string), where the client reports it. */
  timestamp?: string;
}

export type CommitMode = 'sync' | 'async' | 'auto' | 'none';

export interface ConsumeRequest {
  topics: string[];
  groupId: string;
  fromBeginning: boolean;
  /**
   * Resolve once this many distinct records (topic, partition, offset) arrived. A record
   * delivered again (a consumer that lost its membership re-reads from the last commit) is
   * returned again, for the delivery checker to count, but not counted (clients/consume-count.ts).
   */
  count: number;
  timeoutMs: number;
  /** How the consumed records are committed before the call returns; default sync. */
  commit?: CommitMode;
  /** Which records of transactions the consumer sees (capability `transactions`); absent: the client's own default (Java: read_uncommitted; librdkafka, KafkaJS: read_committed). */
  isolationLevel?: IsolationLevel;
}

export type IsolationLevel = 'read_committed' | 'read_uncommitted';

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface CommittedOffset extends TopicPartition {
  offset: string;
}

export interface OpenConsumerRequest {
  topics: string[];
  groupId: string;
  fromBeginning: boolean;
  /** As in ConsumeRequest (capability `transactions`). */
  isolationLevel?: IsolationLevel;
}

/** One group member that lives across calls (capability `groups.session`). */
export interface ConsumerSession {
  /** One poll bounded by `timeoutMs`: the records it returned and the assignment after it. */
  poll(timeoutMs: number): Promise<{ records: InRecord[]; assignment: TopicPartition[] }>;
  /** Commits synchronously the position after every record returned so far. */
  commit(): Promise<CommittedOffset[]>;
  /** The next poll reads `partition` from `offset` (capability `consumer.seek`). */
  seek(topic: string, partition: number, offset: string): Promise<void>;
  /** Leaves the group. */
  close(): Promise<void>;
}

/**
 * One transactional producer with its own `transactional.id`, initialised (InitProducerId) when
 * opened (capability `transactions`). Every call waits for the broker's answer.
 */
export interface TransactionalProducer {
  begin(): Promise<void>;
  /** Sends in order inside the open transaction; resolves with each record's acknowledged place. */
  send(topic: string, records: OutRecord[]): Promise<ProducedRecord[]>;
  /**
   * Adds the offsets of `consumer`'s group to the open transaction (sendOffsetsToTransaction with
   * the member's group metadata); `consumer` is a session opened on the same driver.
   */
  sendOffsets(consumer: ConsumerSession, offsets: CommittedOffset[]): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  /** Closes the producer (an open transaction is left to the coordinator). */
  close(): Promise<void>;
}

export interface GroupDescription {
  groupId: string;
  state: string;
  members: number;
}

/** Admin calls a client may have; each is present exactly when its capability is announced. */
export interface AdminCalls {
  listTopics?(conn: Connection): Promise<string[]>;
  describeTopics?(conn: Connection, topics: string[]): Promise<{ name: string; partitions: number }[]>;
  describeTopicConfig?(conn: Connection, topic: string): Promise<Record<string, string | null>>;
  listGroups?(conn: Connection): Promise<string[]>;
  describeGroup?(conn: Connection, groupId: string): Promise<GroupDescription>;
  committedOffsets?(conn: Connection, groupId: string): Promise<CommittedOffset[]>;
  deleteTopics?(conn: Connection, topics: string[]): Promise<void>;
}

export interface ClientDriver extends AdminCalls {
  /** Registry id, e.g. `kafkajs`. */
  readonly id: string;
  /** Exact library version under test. */
  readonly version: string;
  readonly capabilities: ReadonlySet<Capability>;
  /** Logs in and makes a metadata round trip; rejects with a ClientError. */
  checkLogin(conn: Connection): Promise<void>;
  createTopics(conn: Connection, topics: { name: string; partitions: number }[]): Promise<void>;
  /** Sends records in order and waits for each acknowledgement (acks=0: offsets are unknown, '-1'). */
  produce(conn: Connection, topic: string, records: OutRecord[], opts?: ProduceOptions): Promise<ProducedRecord[]>;
  /** Subscribes as a group member and collects `count` records (or rejects with TIMEOUT). */
  consume(conn: Connection, req: ConsumeRequest): Promise<InRecord[]>;
  /** Opens a long-lived group member (capability `groups.session`). */
  openConsumer?(conn: Connection, req: OpenConsumerRequest): Promise<ConsumerSession>;
  /** Opens and initialises a transactional producer (capability `transactions`). */
  openTransactionalProducer?(conn: Connection, transactionalId: string): Promise<TransactionalProducer>;
  /** The API keys and version ranges the client library speaks (capability `api.versions`). */
  clientApiVersions?(): Promise<ApiRange[]>;
  /** Releases everything the driver holds. */
  close(): Promise<void>;
}

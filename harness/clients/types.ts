// The one driver interface every client implements, in process (KafkaJS, kafka-node) or
// out of process (Java, Python, Fluent Bit over JSON lines). Scenarios talk only to this.
import type { Principal, SecurityProtocol, TargetInfo } from '../targets/types.js';

/** Features a scenario may require; the client registry says which client has which. */
export type Capability =
  | 'headers'
  | 'admin.createTopics'
  | 'admin.deleteTopics'
  | 'groups.commit'
  /** The client's documented usage creates topics before consuming (the seed's kafka-node). */
  | 'requires.createTopicsFirst';

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
  /** false: verification off as the seed's examples do it; default: the target's setting. */
  verifyTls?: boolean;
  /** CA to trust instead of the target's (wrong-CA scenarios). */
  caPemPath?: string;
}

export interface OutRecord {
  key: string | null;
  value: string | null;
  headers?: Record<string, string>;
  partition?: number;
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
}

export interface ConsumeRequest {
  topics: string[];
  groupId: string;
  fromBeginning: boolean;
  /** Resolve once this many records arrived. */
  count: number;
  timeoutMs: number;
}

export interface ClientDriver {
  /** Registry id, e.g. `kafkajs`. */
  readonly id: string;
  /** Exact library version under test. */
  readonly version: string;
  readonly capabilities: ReadonlySet<Capability>;
  /** Logs in and makes a metadata round trip; rejects with a ClientError. */
  checkLogin(conn: Connection): Promise<void>;
  createTopics(conn: Connection, topics: { name: string; partitions: number }[]): Promise<void>;
  produce(conn: Connection, topic: string, records: OutRecord[]): Promise<ProducedRecord[]>;
  /** Subscribes as a group member and collects `count` records (or rejects with TIMEOUT). */
  consume(conn: Connection, req: ConsumeRequest): Promise<InRecord[]>;
  /** Releases everything the driver holds. */
  close(): Promise<void>;
}

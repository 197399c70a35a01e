// KafkaJS client settings for a target, the way the seed configures KafkaJS:
// sasl { mechanism: 'plain', username: '<tenant>/<fabric>', password: 'token:<jwt>' }, and
// for SASL_SSL either CA verification or `rejectUnauthorized: false`.
import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { bootstrap, listenerFor, type Principal, type SecurityProtocol, type TargetInfo } from '../../targets/types.js';

export interface KafkaJsConnectOptions {
  protocol?: SecurityProtocol;
  principal?: Principal;
  username?: string;
  saslMechanism?: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
  /** false: no SASL at all. */
  sasl?: boolean;
  /** Dial this listener instead of `protocol`'s own. */
  listener?: SecurityProtocol;
  /** Expect this TLS server name instead of the host dialled. */
  tlsServerName?: string;
  /** Overrides the principal's password (wrong-token scenarios). */
  password?: string;
  /** false: `rejectUnauthorized: false`, as the seed's example does. Default: the target's setting. */
  verifyTls?: boolean;
  /** PEM CA to trust instead of the target's (wrong-CA scenarios). */
  caPemPath?: string;
  clientId?: string;
  connectionTimeout?: number;
  authenticationTimeout?: number;
  requestTimeout?: number;
  retries?: number;
}

export function kafkaJsConfig(target: TargetInfo, opts: KafkaJsConnectOptions = {}): KafkaConfig {
  const protocol = opts.protocol ?? 'SASL_PLAINTEXT';
  const listener = listenerFor(target, opts.listener ?? protocol);
  const principal = opts.principal ?? target.principals[0];
  if (!principal) throw new Error(`target ${target.id} has no principal to log in with`);
  const verify = opts.verifyTls ?? target.tls.verify;
  const skipHostname = opts.verifyTls === undefined && target.tls.verifyHostname === false;
  const caPath = opts.caPemPath ?? target.tls.caPemPath;
  return {
    clientId: opts.clientId ?? 'kop-conformance',
    brokers: [bootstrap(listener)],
    sasl: opts.sasl === false ? undefined : {
      mechanism: (opts.saslMechanism ?? 'PLAIN').toLowerCase() as 'plain',
      username: opts.username ?? principal.username,
      password: opts.password ?? principal.password,
    },
    ssl: protocol === 'SASL_SSL'
      ? verify
        ? {
            rejectUnauthorized: true,
            ...(caPath ? { ca: [readFileSync(caPath, 'utf8')] } : {}),
            ...(skipHostname ? { checkServerIdentity: () => undefined } : {}),
            ...(opts.tlsServerName ? { servername: opts.tlsServerName } : {}),
          }
        : { rejectUnauthorized: false }
      : false,
    connectionTimeout: opts.connectionTimeout ?? 5000,
    authenticationTimeout: opts.authenticationTimeout ?? 5000,
    requestTimeout: opts.requestTimeout ?? 15000,
    retry: { retries: opts.retries ?? 3, initialRetryTime: 200, maxRetryTime: 2000 },
    logLevel: logLevel.NOTHING,
  };
}

export function kafkaJs(target: TargetInfo, opts: KafkaJsConnectOptions = {}): Kafka {
  return new Kafka(kafkaJsConfig(target, opts));
}

/** A real SASL-authenticated metadata round trip; resolves with the broker count. */
export async function metadataRoundTrip(target: TargetInfo, opts: KafkaJsConnectOptions = {}): Promise<number> {
  const admin = kafkaJs(target, { retries: 0, ...opts }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * A group coordinator round trip (DescribeGroups, after FindCoordinator): a broker that answers
 * metadata may still be creating its offsets topic, and until it has, every consumer group waits
 * for a coordinator (on a busy machine longer than a client's retries: KafkaJS gave up with
 * "Failed to find group coordinator" on a reference Kafka just started).
 */
export async function groupCoordinatorRoundTrip(target: TargetInfo, opts: KafkaJsConnectOptions = {}): Promise<void> {
  const admin = kafkaJs(target, { retries: 0, ...opts }).admin();
  try {
    await admin.connect();
    // (The broker pool is filled by a metadata request; describeGroups alone finds it empty.)
    await admin.describeCluster();
    await admin.describeGroups(['kopc-readiness']);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

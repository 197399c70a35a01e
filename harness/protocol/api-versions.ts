// The Kafka protocol's ApiVersions exchange, done by hand on a raw socket: which API keys an
// endpoint serves, each with its min/max version. Version 0 of the request is used because every
// broker accepts it before authentication (Kafka answers ApiVersions ahead of SASL, and so does
// KoP), and its answer has the simplest layout (Kafka protocol guide: "ApiVersions Request (Version: 0)";
// response v0: error_code INT16, [api_key INT16 min_version INT16 max_version INT16]).
import { connect as tcpConnect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import type { Listener, TlsSettings } from '../targets/types.js';

export interface ApiRange {
  key: number;
  name: string;
  min: number;
  max: number;
}

/** API key → name, from the Kafka protocol guide's list of API keys. */
const NAMES = [
  'Produce', 'Fetch', 'ListOffsets', 'Metadata', 'LeaderAndIsr', 'StopReplica', 'UpdateMetadata', 'ControlledShutdown',
  'OffsetCommit', 'OffsetFetch', 'FindCoordinator', 'JoinGroup', 'Heartbeat', 'LeaveGroup', 'SyncGroup', 'DescribeGroups',
  'ListGroups', 'SaslHandshake', 'ApiVersions', 'CreateTopics', 'DeleteTopics', 'DeleteRecords', 'InitProducerId',
  'OffsetForLeaderEpoch', 'AddPartitionsToTxn', 'AddOffsetsToTxn', 'EndTxn', 'WriteTxnMarkers', 'TxnOffsetCommit',
  'DescribeAcls', 'CreateAcls', 'DeleteAcls', 'DescribeConfigs', 'AlterConfigs', 'AlterReplicaLogDirs', 'DescribeLogDirs',
  'SaslAuthenticate', 'CreatePartitions', 'CreateDelegationToken', 'RenewDelegationToken', 'ExpireDelegationToken',
  'DescribeDelegationToken', 'DeleteGroups', 'ElectLeaders', 'IncrementalAlterConfigs', 'AlterPartitionReassignments',
  'ListPartitionReassignments', 'OffsetDelete', 'DescribeClientQuotas', 'AlterClientQuotas', 'DescribeUserScramCredentials',
  'AlterUserScramCredentials', 'Vote', 'BeginQuorumEpoch', 'EndQuorumEpoch', 'DescribeQuorum', 'AlterPartition',
  'UpdateFeatures', 'Envelope', 'FetchSnapshot', 'DescribeCluster', 'DescribeProducers', 'BrokerRegistration',
  'BrokerHeartbeat', 'UnregisterBroker', 'DescribeTransactions', 'ListTransactions', 'AllocateProducerIds',
  'ConsumerGroupHeartbeat', 'ConsumerGroupDescribe', 'ControllerRegistration', 'GetTelemetrySubscriptions', 'PushTelemetry',
  'AssignReplicasToDirs', 'ListClientMetricsResources', 'DescribeTopicPartitions',
];

export function apiName(key: number): string {
  return NAMES[key] ?? `ApiKey ${key}`;
}

/**
 * The APIs the seed's clients cannot do without for what they are documented to do here: log in
 * with SASL PLAIN, produce, consume in a group and commit. Optional ones a client falls back from
 * (SaslAuthenticate: clients then send raw SASL tokens after SaslHandshake v0) are not in it.
 */
export const CORE_APIS: Readonly<Record<number, string>> = {
  0: 'produce', 1: 'consume', 2: 'find the start and end offsets', 3: 'find topics and leaders',
  8: 'commit a group\'s offsets', 9: 'read a group\'s offsets', 10: 'find the group coordinator',
  11: 'join a group', 12: 'stay in a group', 13: 'leave a group', 14: 'get an assignment',
  17: 'start SASL PLAIN', 18: 'learn the versions',
};

/** Builds the ApiVersions v0 request frame (request header v1: key, version, correlation id, client id). */
export function apiVersionsRequest(correlationId: number, clientId = 'kop-conformance'): Buffer {
  const id = Buffer.from(clientId, 'utf8');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + id.length);
  body.writeInt16BE(18, 0);
  body.writeInt16BE(0, 2);
  body.writeInt32BE(correlationId, 4);
  body.writeInt16BE(id.length, 8);
  id.copy(body, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

/** Parses an ApiVersions v0 response body (after the 4-byte size); throws on a malformed one. */
export function parseApiVersionsResponse(body: Buffer, correlationId: number): ApiRange[] {
  if (body.length < 10) throw new Error(`ApiVersions answer of ${body.length} bytes is too short`);
  const corr = body.readInt32BE(0);
  if (corr !== correlationId) throw new Error(`ApiVersions answer for correlation id ${corr}, asked ${correlationId}`);
  const error = body.readInt16BE(4);
  if (error !== 0) throw new Error(`ApiVersions answered error code ${error}`);
  const n = body.readInt32BE(6);
  if (n < 0 || 10 + n * 6 > body.length) throw new Error(`ApiVersions answer claims ${n} entries in ${body.length} bytes`);
  const out: ApiRange[] = [];
  for (let i = 0; i < n; i++) {
    const at = 10 + i * 6;
    const key = body.readInt16BE(at);
    out.push({ key, name: apiName(key), min: body.readInt16BE(at + 2), max: body.readInt16BE(at + 4) });
  }
  return out.sort((a, b) => a.key - b.key);
}

/** Asks a listener which APIs it serves. TLS listeners are verified against the target's CA. */
export async function probeApiVersions(listener: Listener, tls: TlsSettings, timeoutMs = 10_000): Promise<ApiRange[]> {
  const correlationId = 0x6b6f70;
  const where = `${listener.host}:${listener.port} (${listener.securityProtocol})`;
  return new Promise<ApiRange[]>((resolve, reject) => {
    let socket: Socket;
    let got = Buffer.alloc(0);
    let settled = false;
    const finish = (err: Error | undefined, value?: ApiRange[]) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(new Error(`ApiVersions from ${where}: ${err.message}`));
      else resolve(value!);
    };
    const timer = setTimeout(() => finish(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const send = () => socket.write(apiVersionsRequest(correlationId));
    if (listener.securityProtocol === 'SASL_SSL') {
      // Node refuses explicit undefined for some of these: only the ones that apply are set.
      socket = tlsConnect({
        host: listener.host, port: listener.port, rejectUnauthorized: tls.verify,
        ...(/^[\d.]+$/.test(listener.host) ? {} : { servername: listener.host }),
        ...(tls.caPemPath ? { ca: readFileSync(tls.caPemPath) } : {}),
        ...(tls.verifyHostname === false ? { checkServerIdentity: () => undefined } : {}),
      }, send);
    } else {
      socket = tcpConnect({ host: listener.host, port: listener.port }, send);
    }
    socket.on('data', (chunk) => {
      got = Buffer.concat([got, chunk]);
      if (got.length < 4) return;
      const size = got.readInt32BE(0);
      if (size < 0 || size > 1 << 20) return finish(new Error(`answer claims ${size} bytes`));
      if (got.length < 4 + size) return;
      try {
        finish(undefined, parseApiVersionsResponse(got.subarray(4, 4 + size), correlationId));
      } catch (err) {
        finish(err as Error);
      }
    });
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish(new Error(`connection closed after ${got.length} bytes`)));
  });
}

export interface Overlap {
  key: number;
  name: string;
  need: string;
  /** The target's range, absent when it does not serve the API. */
  target?: { min: number; max: number };
  client: { min: number; max: number };
  /** The version both sides speak (the highest common one), absent when there is none. */
  agreed?: number;
}

/** For each core API the client implements: the target's range next to the client's, and the version they agree on. */
export function coreOverlap(targetApis: ApiRange[], clientApis: ApiRange[]): Overlap[] {
  const byKey = new Map(targetApis.map((a) => [a.key, a]));
  return clientApis.filter((c) => CORE_APIS[c.key] !== undefined).map((c) => {
    const t = byKey.get(c.key);
    const agreed = t && Math.min(t.max, c.max) >= Math.max(t.min, c.min) ? Math.min(t.max, c.max) : undefined;
    return { key: c.key, name: c.name, need: CORE_APIS[c.key]!, target: t && { min: t.min, max: t.max }, client: { min: c.min, max: c.max }, agreed };
  });
}

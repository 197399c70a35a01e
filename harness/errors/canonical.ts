// Canonical error codes: the Kafka protocol's own error names, plus a few of ours for
// failures below the protocol. Scenarios assert on these, never on one library's text;
// the raw message travels along for the report.

export const OUR_CODES = ['TLS_HANDSHAKE_FAILED', 'CONNECTION_REFUSED', 'CONNECTION_CLOSED', 'HOST_UNRESOLVABLE', 'UNSUPPORTED_SETTING', 'CLIENT_PROTOCOL_ERROR',
  'TIMEOUT', 'CLIENT_CRASHED', 'UNKNOWN'] as const;

/** A Kafka protocol error name (SASL_AUTHENTICATION_FAILED, TOPIC_AUTHORIZATION_FAILED, …) or one of OUR_CODES. */
export type CanonicalCode = string;

export class ClientError extends Error {
  constructor(readonly code: CanonicalCode, readonly raw: string, readonly client: string) {
    super(`${code} (${client}): ${raw}`);
    this.name = 'ClientError';
  }
}

/** Kafka protocol error codes the suite meets, by number (for clients that expose only the number). */
const KAFKA_ERRORS: Record<number, string> = {
  3: 'UNKNOWN_TOPIC_OR_PARTITION', 7: 'REQUEST_TIMED_OUT', 10: 'MESSAGE_TOO_LARGE', 14: 'COORDINATOR_LOAD_IN_PROGRESS',
  15: 'COORDINATOR_NOT_AVAILABLE', 16: 'NOT_COORDINATOR', 18: 'RECORD_LIST_TOO_LARGE',
  29: 'TOPIC_AUTHORIZATION_FAILED', 30: 'GROUP_AUTHORIZATION_FAILED', 31: 'CLUSTER_AUTHORIZATION_FAILED',
  33: 'UNSUPPORTED_SASL_MECHANISM', 34: 'ILLEGAL_SASL_STATE', 35: 'UNSUPPORTED_VERSION', 36: 'TOPIC_ALREADY_EXISTS',
  58: 'SASL_AUTHENTICATION_FAILED',
  // Transactions: a producer whose epoch a newer instance with the same transactional.id bumped.
  47: 'INVALID_PRODUCER_EPOCH', 48: 'INVALID_TXN_STATE', 51: 'CONCURRENT_TRANSACTIONS', 90: 'PRODUCER_FENCED',
};

export function kafkaErrorName(code: number | undefined): string | undefined {
  return code === undefined ? undefined : KAFKA_ERRORS[code];
}

const TLS_CODES = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_SIGNATURE_FAILURE',
  'EPROTO', 'ERR_SSL_WRONG_VERSION_NUMBER']);

/** Maps a Node socket/TLS error code (ECONNREFUSED, DEPTH_ZERO_SELF_SIGNED_CERT, …) to a canonical code. */
export function canonicalFromNodeCode(code: string | undefined): CanonicalCode | undefined {
  if (!code) return undefined;
  if (TLS_CODES.has(code) || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) return 'TLS_HANDSHAKE_FAILED';
  if (code === 'ECONNREFUSED') return 'CONNECTION_REFUSED';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'CONNECTION_CLOSED';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'HOST_UNRESOLVABLE';
  if (code === 'ETIMEDOUT') return 'TIMEOUT';
  return undefined;
}

/**
 * Apache Kafka's default message for an error code (`Errors.java`), for clients that hand on
 * only the broker's message text (kafka-node's per-topic createTopics results).
 */
const KAFKA_DEFAULT_MESSAGES: [RegExp, CanonicalCode][] = [
  [/^Topic authorization failed/i, 'TOPIC_AUTHORIZATION_FAILED'],
  [/^Group authorization failed/i, 'GROUP_AUTHORIZATION_FAILED'],
  [/^The request attempted to perform an operation on an invalid topic/i, 'INVALID_TOPIC_EXCEPTION'],
  // The broker's own text for a name it refuses (Topic.validate), carried as the per-topic message.
  [/^Topic name is invalid/i, 'INVALID_TOPIC_EXCEPTION'],
  [/^The server experienced an unexpected error/i, 'UNKNOWN_SERVER_ERROR'],
  [/^Topic with this name already exists/i, 'TOPIC_ALREADY_EXISTS'],
  [/^Number of partitions is below 1|^Number of partitions is invalid/i, 'INVALID_PARTITIONS'],
];

export function canonicalFromKafkaMessage(message: string): CanonicalCode | undefined {
  return KAFKA_DEFAULT_MESSAGES.find(([re]) => re.test(message.trim()))?.[1];
}

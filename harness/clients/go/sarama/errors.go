// Sarama's errors → the suite's canonical codes (harness/errors/canonical.ts): the Kafka
// protocol's error name where the broker answered one, through Sarama's own wrappers; TLS,
// sockets, DNS and timeouts are driverkit's common checks; UNKNOWN with the error's own text
// and type otherwise.
package main

import (
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"

	"github.com/IBM/sarama"
	"kop-conformance/harness/clients/go/driverkit"
)

// The Kafka protocol's error names by code (Apache Kafka's Errors.java).
var kafkaNames = map[int16]string{
	-1: "UNKNOWN_SERVER_ERROR", 0: "NONE", 1: "OFFSET_OUT_OF_RANGE", 2: "CORRUPT_MESSAGE", 3: "UNKNOWN_TOPIC_OR_PARTITION", 4: "INVALID_FETCH_SIZE", 5: "LEADER_NOT_AVAILABLE", 6: "NOT_LEADER_OR_FOLLOWER", 7: "REQUEST_TIMED_OUT", 8: "BROKER_NOT_AVAILABLE",
	9: "REPLICA_NOT_AVAILABLE", 10: "MESSAGE_TOO_LARGE", 11: "STALE_CONTROLLER_EPOCH", 12: "OFFSET_METADATA_TOO_LARGE", 13: "NETWORK_EXCEPTION", 14: "COORDINATOR_LOAD_IN_PROGRESS", 15: "COORDINATOR_NOT_AVAILABLE", 16: "NOT_COORDINATOR", 17: "INVALID_TOPIC_EXCEPTION", 18: "RECORD_LIST_TOO_LARGE", 19: "NOT_ENOUGH_REPLICAS", 20: "NOT_ENOUGH_REPLICAS_AFTER_APPEND", 21: "INVALID_REQUIRED_ACKS", 22: "ILLEGAL_GENERATION", 23: "INCONSISTENT_GROUP_PROTOCOL", 24: "INVALID_GROUP_ID", 25: "UNKNOWN_MEMBER_ID", 26: "INVALID_SESSION_TIMEOUT", 27: "REBALANCE_IN_PROGRESS", 28: "INVALID_COMMIT_OFFSET_SIZE", 29: "TOPIC_AUTHORIZATION_FAILED", 30: "GROUP_AUTHORIZATION_FAILED", 31: "CLUSTER_AUTHORIZATION_FAILED", 32: "INVALID_TIMESTAMP", 33: "UNSUPPORTED_SASL_MECHANISM", 34: "ILLEGAL_SASL_STATE", 35: "UNSUPPORTED_VERSION", 36: "TOPIC_ALREADY_EXISTS", 37: "INVALID_PARTITIONS", 38: "INVALID_REPLICATION_FACTOR", 39: "INVALID_REPLICA_ASSIGNMENT", 40: "INVALID_CONFIG", 41: "NOT_CONTROLLER", 42: "INVALID_REQUEST", 43: "UNSUPPORTED_FOR_MESSAGE_FORMAT", 44: "POLICY_VIOLATION", 45: "OUT_OF_ORDER_SEQUENCE_NUMBER", 46: "DUPLICATE_SEQUENCE_NUMBER", 47: "INVALID_PRODUCER_EPOCH", 48: "INVALID_TXN_STATE", 49: "INVALID_PRODUCER_ID_MAPPING", 50: "INVALID_TRANSACTION_TIMEOUT", 51: "CONCURRENT_TRANSACTIONS", 52: "TRANSACTION_COORDINATOR_FENCED", 53: "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", 54: "SECURITY_DISABLED", 55: "OPERATION_NOT_ATTEMPTED", 56: "KAFKA_STORAGE_ERROR", 57: "LOG_DIR_NOT_FOUND", 58: "SASL_AUTHENTICATION_FAILED", 59: "UNKNOWN_PRODUCER_ID", 60: "REASSIGNMENT_IN_PROGRESS", 61: "DELEGATION_TOKEN_AUTH_DISABLED", 62: "DELEGATION_TOKEN_NOT_FOUND",
	63: "DELEGATION_TOKEN_OWNER_MISMATCH", 64: "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", 65: "DELEGATION_TOKEN_AUTHORIZATION_FAILED",
	66: "DELEGATION_TOKEN_EXPIRED", 67: "INVALID_PRINCIPAL_TYPE", 68: "NON_EMPTY_GROUP", 69: "GROUP_ID_NOT_FOUND", 70: "FETCH_SESSION_ID_NOT_FOUND", 71: "INVALID_FETCH_SESSION_EPOCH", 72: "LISTENER_NOT_FOUND", 73: "TOPIC_DELETION_DISABLED", 74: "FENCED_LEADER_EPOCH", 75: "UNKNOWN_LEADER_EPOCH", 76: "UNSUPPORTED_COMPRESSION_TYPE", 77: "STALE_BROKER_EPOCH", 78: "OFFSET_NOT_AVAILABLE", 79: "MEMBER_ID_REQUIRED", 80: "PREFERRED_LEADER_NOT_AVAILABLE", 81: "GROUP_MAX_SIZE_REACHED", 82: "FENCED_INSTANCE_ID", 83: "ELIGIBLE_LEADERS_NOT_AVAILABLE", 84: "ELECTION_NOT_NEEDED", 85: "NO_REASSIGNMENT_IN_PROGRESS", 86: "GROUP_SUBSCRIBED_TO_TOPIC", 87: "INVALID_RECORD", 88: "UNSTABLE_OFFSET_COMMIT", 89: "THROTTLING_QUOTA_EXCEEDED", 90: "PRODUCER_FENCED", 95: "INVALID_UPDATE_VERSION",
}

func kafkaName(k sarama.KError) string {
	if n, ok := kafkaNames[int16(k)]; ok {
		return n
	}
	return fmt.Sprintf("KAFKA_ERROR_%d", int16(k))
}

// kafkaErrorIn finds a broker's error code in err's chain. Sarama wraps them in its
// sentinelError, whose Unwrap hides the sentinel from errors.As (only errors.Is sees it).
func kafkaErrorIn(err error) (sarama.KError, bool) {
	var kerr sarama.KError
	if errors.As(err, &kerr) && kerr != sarama.ErrNoError {
		return kerr, true
	}
	for _, code := range kafkaCodes {
		if errors.Is(err, sarama.KError(code)) {
			return sarama.KError(code), true
		}
	}
	return 0, false
}

var kafkaCodes = func() []int16 {
	var out []int16
	for c := range kafkaNames {
		if c != 0 {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}()

// saramaErrors is set in init: its hooks call canonical, which uses it.
var saramaErrors driverkit.Mapping

func init() {
	saramaErrors = driverkit.Mapping{Broker: brokerCode, Transport: transportCode, Late: lateCode, Class: errorClass}
}

// canonical finds the most specific canonical code in err's chain; "" when nothing specific
// is there.
func canonical(err error) string { return saramaErrors.Code(err) }

// brokerCode: a broker's error code, also inside a producer's per-message errors.
func brokerCode(err error) string {
	if kerr, ok := kafkaErrorIn(err); ok {
		return kafkaName(kerr)
	}
	var pe *sarama.ProducerError
	if errors.As(err, &pe) && pe.Err != nil {
		return canonical(pe.Err)
	}
	var pes sarama.ProducerErrors
	if errors.As(err, &pes) && len(pes) > 0 {
		return canonical(pes[0].Err)
	}
	return ""
}

// transportCode: a DNS lookup that timed out is a TIMEOUT, not an unresolvable host.
func transportCode(err error) string {
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsTimeout {
		return "TIMEOUT"
	}
	return ""
}

func lateCode(err error) string {
	if errors.Is(err, sarama.ErrMessageTooLarge) {
		return "MESSAGE_TOO_LARGE"
	}
	var cerr sarama.ConfigurationError
	if errors.As(err, &cerr) {
		// Sarama's own size check before sending, like Java's RecordTooLargeException.
		if strings.Contains(string(cerr), "larger than configured Producer.MaxMessageBytes") {
			return "RECORD_TOO_LARGE"
		}
		return "UNSUPPORTED_SETTING"
	}
	return ""
}

// errorClass names a broker's error by its Kafka name; other errors by their Go type.
func errorClass(err error) string {
	if kerr, ok := kafkaErrorIn(err); ok {
		return "sarama.KError(" + kafkaName(kerr) + ")"
	}
	return ""
}

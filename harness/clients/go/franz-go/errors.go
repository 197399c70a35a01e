// franz-go's errors → the suite's canonical codes: the Kafka protocol's error name where
// franz-go has a *kerr.Error, franz-go's own diagnoses of a connection closed right away;
// TLS, sockets, DNS and timeouts are driverkit's common checks.
package main

import (
	"errors"
	"net"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"kop-conformance/harness/clients/go/driverkit"
)

var franzErrors = driverkit.Mapping{Broker: brokerCode, Transport: transportCode, Late: lateCode, Class: errorClass}

func translate(err error) *driverkit.Error { return franzErrors.Translate(err) }

func brokerCode(err error) string {
	var ke *kerr.Error
	if !errors.As(err, &ke) {
		return ""
	}
	// franz-go's own refusal of an oversized record is kerr.MessageTooLarge too.
	if ke.Message == "MESSAGE_TOO_LARGE" {
		return "RECORD_TOO_LARGE"
	}
	return ke.Message
}

func transportCode(err error) string {
	msg := err.Error()
	var firstRead *kgo.ErrFirstReadEOF
	switch {
	case strings.Contains(msg, "speaking to a tls endpoint"):
		// franz-go's own diagnosis of a plaintext client answered by a TLS endpoint.
		return "TLS_HANDSHAKE_FAILED"
	case errors.As(err, &firstRead):
		// franz-go's guess for a connection closed right away: TLS against a plaintext port
		// (closed after the dial) or a missing TLS / SASL layer (closed after the first request).
		if strings.Contains(msg, "using TLS when the broker is not") {
			return "TLS_HANDSHAKE_FAILED"
		}
		return "CONNECTION_CLOSED"
	case errors.Is(err, net.ErrClosed):
		return "CONNECTION_CLOSED"
	}
	return ""
}

func lateCode(err error) string {
	if errors.Is(err, kgo.ErrRecordTimeout) {
		return "TIMEOUT"
	}
	return ""
}

func errorClass(err error) string {
	var ke *kerr.Error
	var firstRead *kgo.ErrFirstReadEOF
	switch {
	case errors.As(err, &ke):
		return "kerr.Error(" + ke.Message + ")"
	case errors.As(err, &firstRead):
		return "kgo.ErrFirstReadEOF"
	}
	return ""
}

// decisive: a failure that no retry fixes (a refused login, a TLS failure, a refused
// authorisation): a consume loop stops at it instead of waiting for its deadline.
func decisive(e *driverkit.Error) bool {
	switch e.Code {
	case "SASL_AUTHENTICATION_FAILED", "UNSUPPORTED_SASL_MECHANISM", "ILLEGAL_SASL_STATE", "TLS_HANDSHAKE_FAILED",
		"TOPIC_AUTHORIZATION_FAILED", "GROUP_AUTHORIZATION_FAILED", "CLUSTER_AUTHORIZATION_FAILED",
		"INVALID_TOPIC_EXCEPTION", "UNSUPPORTED_VERSION", "HOST_UNRESOLVABLE":
		return true
	}
	return false
}

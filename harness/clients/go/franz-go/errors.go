package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// translate maps an error from franz-go (or the standard library under it) to a canonical
// code: the Kafka protocol's error name where franz-go has a *kerr.Error, else ours.
func translate(err error) *driverError {
	var de *driverError
	if errors.As(err, &de) {
		return de
	}
	class := fmt.Sprintf("%T", err)
	msg := err.Error()
	var ke *kerr.Error
	if errors.As(err, &ke) {
		code := ke.Message
		// franz-go's own refusal of an oversized record is kerr.MessageTooLarge too.
		if code == "MESSAGE_TOO_LARGE" {
			code = "RECORD_TOO_LARGE"
		}
		return &driverError{code: code, msg: msg, class: "kerr.Error(" + ke.Message + ")"}
	}
	var (
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		certInv   x509.CertificateInvalidError
		verifyErr *tls.CertificateVerificationError
		recHdr    tls.RecordHeaderError
		alertErr  tls.AlertError
		dnsErr    *net.DNSError
		firstRead *kgo.ErrFirstReadEOF
		opErr     *net.OpError
	)
	switch {
	case errors.As(err, &verifyErr), errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &certInv),
		errors.As(err, &recHdr), errors.As(err, &alertErr), strings.Contains(msg, "tls: "),
		// franz-go's own diagnosis of a plaintext client answered by a TLS endpoint.
		strings.Contains(msg, "speaking to a tls endpoint"):
		return &driverError{code: "TLS_HANDSHAKE_FAILED", msg: msg, class: class}
	case errors.As(err, &firstRead):
		// franz-go's guess for a connection closed right away: TLS against a plaintext port
		// (closed after the dial) or a missing TLS / SASL layer (closed after the first request).
		if strings.Contains(msg, "using TLS when the broker is not") {
			return &driverError{code: "TLS_HANDSHAKE_FAILED", msg: msg, class: "kgo.ErrFirstReadEOF"}
		}
		return &driverError{code: "CONNECTION_CLOSED", msg: msg, class: "kgo.ErrFirstReadEOF"}
	case errors.As(err, &dnsErr):
		return &driverError{code: "HOST_UNRESOLVABLE", msg: msg, class: class}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &driverError{code: "CONNECTION_REFUSED", msg: msg, class: class}
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, net.ErrClosed):
		return &driverError{code: "CONNECTION_CLOSED", msg: msg, class: class}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, kgo.ErrRecordTimeout), errors.Is(err, syscall.ETIMEDOUT):
		return &driverError{code: "TIMEOUT", msg: msg, class: class}
	case errors.As(err, &opErr) && opErr.Timeout():
		return &driverError{code: "TIMEOUT", msg: msg, class: class}
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return &driverError{code: "TIMEOUT", msg: msg, class: class}
	}
	return &driverError{code: "UNKNOWN", msg: msg, class: class}
}

// decisive: a failure that no retry fixes (a refused login, a TLS failure, a refused
// authorisation): a consume loop stops at it instead of waiting for its deadline.
func decisive(e *driverError) bool {
	switch e.code {
	case "SASL_AUTHENTICATION_FAILED", "UNSUPPORTED_SASL_MECHANISM", "ILLEGAL_SASL_STATE", "TLS_HANDSHAKE_FAILED",
		"TOPIC_AUTHORIZATION_FAILED", "GROUP_AUTHORIZATION_FAILED", "CLUSTER_AUTHORIZATION_FAILED",
		"INVALID_TOPIC_EXCEPTION", "UNSUPPORTED_VERSION", "HOST_UNRESOLVABLE":
		return true
	}
	return false
}

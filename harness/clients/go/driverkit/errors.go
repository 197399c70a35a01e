package driverkit

// Errors → canonical codes (PROTOCOL.md, "Error codes"; harness/errors/canonical.ts). What
// does not depend on the client library lives here: an error the driver already translated,
// TLS, DNS, sockets and timeouts of the standard library. A driver's Mapping adds its
// library's errors around these checks.

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
)

// Error is a failure already translated to a canonical code.
type Error struct {
	Code, Message, Class string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf is an *Error with a formatted message.
func Errorf(code, class, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Class: class}
}

// Mapping is one driver's translation of its library's errors. Each hook returns a canonical
// code, or "" when it has nothing to say; the checks run in this order: an *Error in the
// chain, Broker, TLS, Transport, the standard library's DNS / socket / timeout errors, Late.
type Mapping struct {
	// Broker finds a broker's error code in the chain: it wins over the socket error that
	// may have followed the answer.
	Broker func(err error) string
	// Transport: the library's own reading of a connection failure (checked after TLS).
	Transport func(err error) string
	// Late: the library's errors that only count when nothing above matched.
	Late func(err error) string
	// Class names the most telling type in the chain for the report; "" for err's Go type.
	Class func(err error) string
}

// Code is the most specific canonical code in err's chain (wrapped and joined errors
// included); "" when nothing specific is there.
func (m Mapping) Code(err error) string {
	if err == nil {
		return ""
	}
	var de *Error
	if errors.As(err, &de) {
		return de.Code
	}
	for _, check := range []func(error) string{m.Broker, tlsCode, m.Transport, networkCode, m.Late} {
		if check == nil {
			continue
		}
		if code := check(err); code != "" {
			return code
		}
	}
	return ""
}

// Translate gives a failed command's code, message and class (UNKNOWN when nothing more
// specific applies). An *Error returned as is keeps its own message and class; one wrapped
// in context keeps its code, the message and class are the wrapper's.
func (m Mapping) Translate(err error) *Error {
	var de *Error
	if errors.As(err, &de) && de == err {
		return de
	}
	code := m.Code(err)
	if code == "" {
		code = "UNKNOWN"
	}
	class := ""
	if m.Class != nil {
		class = m.Class(err)
	}
	if class == "" {
		class = fmt.Sprintf("%T", err)
	}
	return &Error{Code: code, Message: err.Error(), Class: class}
}

// tlsCode: a failed TLS handshake (untrusted CA, host name mismatch, TLS against a
// plaintext port, an alert from the peer).
func tlsCode(err error) string {
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		verify    *tls.CertificateVerificationError
		header    tls.RecordHeaderError
		alert     tls.AlertError
	)
	switch {
	case errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &invalid), errors.As(err, &verify),
		errors.As(err, &header), errors.As(err, &alert), strings.Contains(err.Error(), "tls: "):
		return "TLS_HANDSHAKE_FAILED"
	}
	return ""
}

// networkCode: DNS, refused and closed sockets, deadlines.
func networkCode(err error) string {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "HOST_UNRESOLVABLE"
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "CONNECTION_REFUSED"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "CONNECTION_CLOSED"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, syscall.ETIMEDOUT):
		return "TIMEOUT"
	}
	var nerr net.Error
	if errors.As(err, &nerr) && nerr.Timeout() {
		return "TIMEOUT"
	}
	return ""
}

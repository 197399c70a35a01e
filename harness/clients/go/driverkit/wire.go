package driverkit

// The JSON of PROTOCOL.md that does not depend on the client library: a command's `conn`
// (and the crypto/tls configuration it asks for), the topic-partition and offset lists of
// the results, and the handles of objects that live across commands.

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
)

// Decode reads a command's fields into a T; a malformed command is UNSUPPORTED_SETTING.
func Decode[T any](raw json.RawMessage) (*T, error) {
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, Errorf("UNSUPPORTED_SETTING", "DriverError", "bad command: %v", err)
	}
	return &v, nil
}

// SSL is a conn's `ssl` object.
type SSL struct {
	Verify               *bool  `json:"verify"`
	CAPemPath            string `json:"ca_pem_path"`
	HostnameVerification *bool  `json:"hostname_verification"`
	TruststorePassword   string `json:"truststore_password"`
}

// Conn is a command's `conn` object.
type Conn struct {
	Bootstrap        string `json:"bootstrap"`
	SecurityProtocol string `json:"security_protocol"`
	SASLMechanism    string `json:"sasl_mechanism"`
	Username         string `json:"username"`
	Password         string `json:"password"`
	SSL              *SSL   `json:"ssl"`
}

func (c *Conn) registerSecrets() {
	if c == nil {
		return
	}
	RegisterSecret(c.Password)
	if c.SSL != nil {
		RegisterSecret(c.SSL.TruststorePassword)
	}
}

// ConnOf reads the `conn` of a command.
func ConnOf(raw json.RawMessage) (*Conn, error) {
	cmd, err := Decode[struct {
		Conn *Conn `json:"conn"`
	}](raw)
	if err != nil {
		return nil, err
	}
	if cmd.Conn == nil {
		return nil, Errorf("UNSUPPORTED_SETTING", "DriverError", "the command has no conn")
	}
	return cmd.Conn, nil
}

// Brokers are the bootstrap addresses.
func (c *Conn) Brokers() ([]string, error) {
	var out []string
	for _, a := range strings.Split(c.Bootstrap, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, Errorf("UNSUPPORTED_SETTING", "DriverError", "conn.bootstrap is empty")
	}
	return out, nil
}

// Security is what a conn's security_protocol and sasl_mechanism ask for.
type Security struct {
	SASL, TLS bool
	// Mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 where SASL is on (PLAIN when absent);
	// the driver passes it through, so the endpoint's own refusal is what is seen.
	Mechanism string
}

// Security reads the security protocol; an unknown protocol or mechanism is UNSUPPORTED_SETTING.
func (c *Conn) Security() (Security, error) {
	var s Security
	switch strings.ToUpper(c.SecurityProtocol) {
	case "PLAINTEXT":
	case "SSL":
		s.TLS = true
	case "SASL_PLAINTEXT":
		s.SASL = true
	case "SASL_SSL":
		s.SASL, s.TLS = true, true
	default:
		return s, Errorf("UNSUPPORTED_SETTING", "DriverError", "security_protocol %q", c.SecurityProtocol)
	}
	if s.SASL {
		s.Mechanism = c.SASLMechanism
		if s.Mechanism == "" {
			s.Mechanism = "PLAIN"
		}
		switch s.Mechanism {
		case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		default:
			return s, Errorf("UNSUPPORTED_SETTING", "DriverError", "sasl_mechanism %q", s.Mechanism)
		}
	}
	return s, nil
}

// TLSConfig is the crypto/tls side of `ssl`: the target's CA (the system's roots without
// one), verification off, or the chain checked without the host name (Java's empty
// ssl.endpoint.identification.algorithm). A nil SSL is the defaults.
func (s *SSL) TLSConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if s == nil {
		return cfg, nil
	}
	if s.Verify != nil && !*s.Verify {
		cfg.InsecureSkipVerify = true
		return cfg, nil
	}
	if s.CAPemPath != "" {
		pem, err := os.ReadFile(s.CAPemPath)
		if err != nil {
			return nil, Errorf("UNSUPPORTED_SETTING", "DriverError", "cannot read ssl.ca_pem_path %s: %v", s.CAPemPath, err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, Errorf("UNSUPPORTED_SETTING", "DriverError", "ssl.ca_pem_path %s holds no PEM certificate", s.CAPemPath)
		}
	}
	if s.HostnameVerification != nil && !*s.HostnameVerification {
		// crypto/tls checks the chain without the host name only by hand.
		roots := cfg.RootCAs
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("tls: the server sent no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			if _, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter}); err != nil {
				return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
			}
			return nil
		}
	}
	return cfg, nil
}

// TopicPartition is one entry of an `assignment`.
type TopicPartition struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
}

func (a TopicPartition) less(b TopicPartition) bool {
	if a.Topic != b.Topic {
		return a.Topic < b.Topic
	}
	return a.Partition < b.Partition
}

// Assignment lists a set of partitions sorted by topic, then partition (never nil).
func Assignment(set map[TopicPartition]bool) []TopicPartition {
	out := make([]TopicPartition, 0, len(set))
	for k, in := range set {
		if in {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].less(out[j]) })
	return out
}

// Offset is one entry of an `offsets` list; the offset is a decimal string.
type Offset struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    string `json:"offset"`
}

// SortOffsets sorts by topic, then partition, and returns the list (never nil).
func SortOffsets(list []Offset) []Offset {
	if list == nil {
		list = []Offset{}
	}
	sort.Slice(list, func(i, j int) bool {
		return TopicPartition{list[i].Topic, list[i].Partition}.less(TopicPartition{list[j].Topic, list[j].Partition})
	})
	return list
}

// OffsetList lists offsets by partition, sorted.
func OffsetList(offsets map[TopicPartition]int64) []Offset {
	out := make([]Offset, 0, len(offsets))
	for k, o := range offsets {
		out = append(out, Offset{Topic: k.Topic, Partition: k.Partition, Offset: fmt.Sprint(o)})
	}
	return SortOffsets(out)
}

// SortedKeys are a map's keys in order.
func SortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Handles are the objects that live across commands (consumer sessions, transactional
// producers), each under a handle of its own.
type Handles[T any] struct {
	prefix, what string
	mu           sync.Mutex
	seq          int
	open         map[string]T
}

// NewHandles: handles are prefix-1, prefix-2, …; `what` names the object in errors.
func NewHandles[T any](prefix, what string) *Handles[T] {
	return &Handles[T]{prefix: prefix, what: what, open: map[string]T{}}
}

// Add keeps v and returns its new handle.
func (h *Handles[T]) Add(v T) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	handle := fmt.Sprintf("%s-%d", h.prefix, h.seq)
	h.open[handle] = v
	return handle
}

// Get is the object under handle; an unknown handle is UNKNOWN ("no open <what>").
func (h *Handles[T]) Get(handle string) (T, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.open[handle]
	if !ok {
		return v, Errorf("UNKNOWN", "DriverError", "no open %s %q", h.what, handle)
	}
	return v, nil
}

// Take removes the object under handle and returns it (ok false when there was none).
func (h *Handles[T]) Take(handle string) (v T, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok = h.open[handle]
	delete(h.open, handle)
	return v, ok
}

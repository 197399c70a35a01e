// The `conn` object of PROTOCOL.md → a sarama.Config: security protocol, SASL (PLAIN as the
// endpoint documents it, SCRAM passed through so the endpoint's own refusal is what is seen),
// TLS with the target's CA, verification off, or the chain checked without the host name.
package main

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"hash"
	"os"
	"strings"
	"time"

	"github.com/IBM/sarama"
	"github.com/xdg-go/scram"
)

type sslConf struct {
	Verify               *bool  `json:"verify"`
	CAPemPath            string `json:"ca_pem_path"`
	HostnameVerification *bool  `json:"hostname_verification"`
}

type wireConn struct {
	Bootstrap        string   `json:"bootstrap"`
	SecurityProtocol string   `json:"security_protocol"`
	SASLMechanism    string   `json:"sasl_mechanism"`
	Username         string   `json:"username"`
	Password         string   `json:"password"`
	SSL              *sslConf `json:"ssl"`
}

// Bounds of one connection's work; a command adds its own overall bound on top.
const (
	dialTimeout    = 10 * time.Second
	requestTimeout = 15 * time.Second
)

// saramaVersion is the Kafka version Sarama is told to speak; with it Sarama asks each broker
// for its ApiVersions and clamps every request to what the broker serves. 2.8 is the newest
// version this driver's features need (zstd, idempotence, transactions, headers).
var saramaVersion = sarama.V2_8_0_0

func (c *wireConn) addrs() ([]string, error) {
	var out []string
	for _, a := range strings.Split(c.Bootstrap, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, derr("UNSUPPORTED_SETTING", "DriverError", "conn.bootstrap is empty")
	}
	return out, nil
}

func parseConn(raw json.RawMessage) (*wireConn, error) {
	var holder struct {
		Conn *wireConn `json:"conn"`
	}
	if err := json.Unmarshal(raw, &holder); err != nil {
		return nil, derr("UNSUPPORTED_SETTING", "DriverError", "bad command: %v", err)
	}
	if holder.Conn == nil {
		return nil, derr("UNSUPPORTED_SETTING", "DriverError", "the command has no conn")
	}
	return holder.Conn, nil
}

type scramClient struct {
	gen  scram.HashGeneratorFcn
	conv *scram.ClientConversation
}

func (s *scramClient) Begin(user, password, authzID string) error {
	c, err := s.gen.NewClient(user, password, authzID)
	if err != nil {
		return err
	}
	s.conv = c.NewConversation()
	return nil
}

func (s *scramClient) Step(challenge string) (string, error) { return s.conv.Step(challenge) }
func (s *scramClient) Done() bool                            { return s.conv.Done() }

// newConfig builds the Sarama configuration for one command's client.
func newConfig(c *wireConn, clientID string) (*sarama.Config, error) {
	cfg := sarama.NewConfig()
	cfg.Version = saramaVersion
	cfg.ClientID = clientID
	cfg.Net.DialTimeout = dialTimeout
	cfg.Net.ReadTimeout = requestTimeout
	cfg.Net.WriteTimeout = requestTimeout
	// A refused login or an unreachable endpoint ends the command soon, not after many rounds.
	cfg.Metadata.Retry.Max = 1
	cfg.Metadata.Retry.Backoff = 250 * time.Millisecond
	cfg.Metadata.Timeout = 20 * time.Second

	proto := strings.ToUpper(c.SecurityProtocol)
	switch proto {
	case "SASL_PLAINTEXT", "SASL_SSL":
		cfg.Net.SASL.Enable = true
		cfg.Net.SASL.Handshake = true
		cfg.Net.SASL.User = c.Username
		cfg.Net.SASL.Password = c.Password
		mech := c.SASLMechanism
		if mech == "" {
			mech = "PLAIN"
		}
		switch mech {
		case "PLAIN":
			cfg.Net.SASL.Mechanism = sarama.SASLTypePlaintext
		case "SCRAM-SHA-256":
			cfg.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA256
			cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient {
				return &scramClient{gen: func() hash.Hash { return sha256.New() }}
			}
		case "SCRAM-SHA-512":
			cfg.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA512
			cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient {
				return &scramClient{gen: func() hash.Hash { return sha512.New() }}
			}
		default:
			return nil, derr("UNSUPPORTED_SETTING", "DriverError", "sasl_mechanism %q", mech)
		}
	case "PLAINTEXT", "SSL":
	default:
		return nil, derr("UNSUPPORTED_SETTING", "DriverError", "security_protocol %q", c.SecurityProtocol)
	}
	if proto == "SASL_SSL" || proto == "SSL" {
		tc, err := tlsConfig(c.SSL)
		if err != nil {
			return nil, err
		}
		cfg.Net.TLS.Enable = true
		cfg.Net.TLS.Config = tc
	}
	return cfg, nil
}

func tlsConfig(s *sslConf) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if s == nil {
		return tc, nil // the system's roots, host name checked
	}
	if s.Verify != nil && !*s.Verify {
		tc.InsecureSkipVerify = true
		return tc, nil
	}
	if s.CAPemPath != "" {
		pem, err := os.ReadFile(s.CAPemPath)
		if err != nil {
			return nil, derr("UNSUPPORTED_SETTING", "DriverError", "ssl.ca_pem_path: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, derr("UNSUPPORTED_SETTING", "DriverError", "ssl.ca_pem_path %s holds no PEM certificate", s.CAPemPath)
		}
		tc.RootCAs = pool
	}
	if s.HostnameVerification != nil && !*s.HostnameVerification {
		// The chain is still checked against the roots; only the host name is not.
		roots := tc.RootCAs
		tc.InsecureSkipVerify = true
		tc.VerifyPeerCertificate = func(rawCerts [][]byte, _ [][]*x509.Certificate) error {
			if len(rawCerts) == 0 {
				return fmt.Errorf("tls: the server presented no certificate")
			}
			certs := make([]*x509.Certificate, len(rawCerts))
			for i, r := range rawCerts {
				c, err := x509.ParseCertificate(r)
				if err != nil {
					return fmt.Errorf("tls: bad server certificate: %w", err)
				}
				certs[i] = c
			}
			inter := x509.NewCertPool()
			for _, c := range certs[1:] {
				inter.AddCert(c)
			}
			_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
			return err
		}
	}
	return tc, nil
}

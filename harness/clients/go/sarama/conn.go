// The `conn` object of PROTOCOL.md (driverkit.Conn) → a sarama.Config: SASL (PLAIN as the
// endpoint documents it, SCRAM passed through so the endpoint's own refusal is what is seen)
// and driverkit's TLS configuration (the target's CA, verification off, or the chain checked
// without the host name).
package main

import (
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"time"

	"github.com/IBM/sarama"
	"github.com/xdg-go/scram"
	"kop-conformance/harness/clients/go/driverkit"
)

// Bounds of one connection's work; a command adds its own overall bound on top.
const (
	dialTimeout    = 10 * time.Second
	requestTimeout = 15 * time.Second
)

// saramaVersion is the Kafka version Sarama is told to speak; with it Sarama asks each broker
// for its ApiVersions and clamps every request to what the broker serves. 2.8 is the newest
// version this driver's features need (zstd, idempotence, transactions, headers).
var saramaVersion = sarama.V2_8_0_0

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
func newConfig(c *driverkit.Conn, clientID string) (*sarama.Config, error) {
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

	sec, err := c.Security()
	if err != nil {
		return nil, err
	}
	if sec.SASL {
		cfg.Net.SASL.Enable = true
		cfg.Net.SASL.Handshake = true
		cfg.Net.SASL.User = c.Username
		cfg.Net.SASL.Password = c.Password
		switch sec.Mechanism {
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
		}
	}
	if sec.TLS {
		tc, err := c.SSL.TLSConfig()
		if err != nil {
			return nil, err
		}
		cfg.Net.TLS.Enable = true
		cfg.Net.TLS.Config = tc
	}
	return cfg, nil
}

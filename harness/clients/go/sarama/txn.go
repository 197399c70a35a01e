// Transactional producers (PROTOCOL.md, "Transactions"): Sarama's SyncProducer with a
// transactional id; creating it runs InitProducerId. Every call is bounded by 30 s.
package main

import (
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"kop-conformance/harness/clients/go/driverkit"
)

const txnBound = 30 * time.Second

type txnProducer struct {
	producer sarama.SyncProducer
	client   sarama.Client
	untrack  func()
	once     sync.Once
}

func (t *txnProducer) close() {
	t.once.Do(func() {
		t.untrack()
		closeBounded("transactional producer", t.producer.Close)
		closeBounded("transactional producer client", t.client.Close)
	})
}

var txns = driverkit.NewHandles[*txnProducer]("sarama-txn", "transactional producer")

func txnProducerOpen(id int64, raw json.RawMessage) (any, error) {
	cmd, err := driverkit.Decode[struct {
		TransactionalID string `json:"transactional_id"`
	}](raw)
	if err != nil {
		return nil, err
	}
	if cmd.TransactionalID == "" {
		return nil, driverkit.Errorf("UNSUPPORTED_SETTING", "DriverError", "transactional_id is empty")
	}
	client, _, err := newClient(raw, "kop-conformance-sarama-txn", func(c *sarama.Config) {
		c.Producer.Transaction.ID = cmd.TransactionalID
		c.Producer.Transaction.Timeout = 60 * time.Second
		c.Producer.Transaction.Retry.Max = 20
		c.Producer.Transaction.Retry.Backoff = 200 * time.Millisecond
		c.Producer.Idempotent = true
		c.Producer.RequiredAcks = sarama.WaitForAll
		c.Producer.Return.Successes = true
		c.Producer.Return.Errors = true
		c.Producer.Partitioner = newPartitioner
		c.Producer.Timeout = requestTimeout
		c.Net.MaxOpenRequests = 1
	})
	if err != nil {
		return nil, err
	}
	// NewSyncProducerFromClient initialises the transactions (InitProducerId).
	producer, err := bounded(txnBound, "txn_producer_open (InitProducerId)", func() (sarama.SyncProducer, error) {
		return sarama.NewSyncProducerFromClient(client)
	})
	if err != nil {
		client.Close()
		return nil, err
	}
	t := &txnProducer{producer: producer, client: client}
	t.untrack = driverkit.Track(t.close)
	return map[string]any{"handle": txns.Add(t)}, nil
}

func txnCall(raw json.RawMessage, what string, fn func(p sarama.SyncProducer) error) (any, error) {
	t, err := byHandle(raw, txns)
	if err != nil {
		return nil, err
	}
	_, err = bounded(txnBound, what, func() (struct{}, error) { return struct{}{}, fn(t.producer) })
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func txnBegin(id int64, raw json.RawMessage) (any, error) {
	return txnCall(raw, "txn_begin", func(p sarama.SyncProducer) error { return p.BeginTxn() })
}

func txnCommit(id int64, raw json.RawMessage) (any, error) {
	return txnCall(raw, "txn_commit", func(p sarama.SyncProducer) error { return p.CommitTxn() })
}

func txnAbort(id int64, raw json.RawMessage) (any, error) {
	return txnCall(raw, "txn_abort", func(p sarama.SyncProducer) error { return p.AbortTxn() })
}

func txnSend(id int64, raw json.RawMessage) (any, error) {
	cmd, err := driverkit.Decode[struct {
		Topic   string      `json:"topic"`
		Records []outRecord `json:"records"`
	}](raw)
	if err != nil {
		return nil, err
	}
	msgs, err := toMessages(cmd.Topic, cmd.Records)
	if err != nil {
		return nil, err
	}
	if _, err := txnCall(raw, "txn_send", func(p sarama.SyncProducer) error { return p.SendMessages(msgs) }); err != nil {
		return nil, err
	}
	return sent(id, msgs, false), nil
}

func txnSendOffsets(id int64, raw json.RawMessage) (any, error) {
	cmd, err := driverkit.Decode[struct {
		ConsumerHandle string             `json:"consumer_handle"`
		Offsets        []driverkit.Offset `json:"offsets"`
	}](raw)
	if err != nil {
		return nil, err
	}
	m, err := sessions.Get(cmd.ConsumerHandle)
	if err != nil {
		return nil, err
	}
	offsets := map[string][]*sarama.PartitionOffsetMetadata{}
	for _, o := range cmd.Offsets {
		n, err := strconv.ParseInt(o.Offset, 10, 64)
		if err != nil {
			return nil, driverkit.Errorf("UNSUPPORTED_SETTING", "DriverError", "offset %q is not a decimal number", o.Offset)
		}
		offsets[o.Topic] = append(offsets[o.Topic], &sarama.PartitionOffsetMetadata{Partition: o.Partition, Offset: n})
	}
	// The member's current generation and member id fence a zombie member's offsets.
	m.mu.Lock()
	sess := m.sess
	m.mu.Unlock()
	meta := sarama.NewConsumerGroupMetadata(m.groupID)
	if sess != nil {
		meta = sarama.NewConsumerGroupMetadataFromSession(sess, m.groupID, nil)
	}
	return txnCall(raw, "txn_send_offsets", func(p sarama.SyncProducer) error {
		return p.AddOffsetsToTxnWithGroupMetadata(offsets, meta)
	})
}

func txnProducerClose(id int64, raw json.RawMessage) (any, error) {
	cmd, err := driverkit.Decode[handleCmd](raw)
	if err != nil {
		return nil, err
	}
	if t, ok := txns.Take(cmd.Handle); ok {
		t.close()
	}
	return map[string]any{}, nil
}

// Transactional producers (PROTOCOL.md, "Transactions"): Sarama's SyncProducer with a
// transactional id; creating it runs InitProducerId. Every call is bounded by 30 s.
package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/IBM/sarama"
)

const txnBound = 30 * time.Second

type txnProducer struct {
	producer sarama.SyncProducer
	client   sarama.Client
	tid      int
	once     sync.Once
}

func (t *txnProducer) close() {
	t.once.Do(func() {
		untrack(t.tid)
		closeBounded("transactional producer", t.producer.Close)
		closeBounded("transactional producer client", t.client.Close)
	})
}

var (
	txnMu  sync.Mutex
	txns   = map[string]*txnProducer{}
	txnSeq int
)

func txnOf(raw json.RawMessage) (*txnProducer, error) {
	cmd, err := decode[struct {
		Handle string `json:"handle"`
	}](raw)
	if err != nil {
		return nil, err
	}
	txnMu.Lock()
	defer txnMu.Unlock()
	t := txns[cmd.Handle]
	if t == nil {
		return nil, derr("UNKNOWN", "DriverError", "no open transactional producer %q", cmd.Handle)
	}
	return t, nil
}

func txnProducerOpen(id int64, raw json.RawMessage) (any, error) {
	cmd, err := decode[struct {
		TransactionalID string `json:"transactional_id"`
	}](raw)
	if err != nil {
		return nil, err
	}
	if cmd.TransactionalID == "" {
		return nil, derr("UNSUPPORTED_SETTING", "DriverError", "transactional_id is empty")
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
	t.tid = track(t.close)
	txnMu.Lock()
	txnSeq++
	handle := fmt.Sprintf("sarama-txn-%d", txnSeq)
	txns[handle] = t
	txnMu.Unlock()
	return map[string]any{"handle": handle}, nil
}

func txnCall(raw json.RawMessage, what string, fn func(p sarama.SyncProducer) error) (any, error) {
	t, err := txnOf(raw)
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
	cmd, err := decode[struct {
		Topic   string      `json:"topic"`
		Records []outRecord `json:"records"`
	}](raw)
	if err != nil {
		return nil, err
	}
	msgs := make([]*sarama.ProducerMessage, len(cmd.Records))
	for i, r := range cmd.Records {
		if msgs[i], err = toMessage(cmd.Topic, r); err != nil {
			return nil, err
		}
	}
	if _, err := txnCall(raw, "txn_send", func(p sarama.SyncProducer) error { return p.SendMessages(msgs) }); err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(msgs))
	for i, m := range msgs {
		out[i] = map[string]any{"topic": m.Topic, "partition": m.Partition, "offset": strconv.FormatInt(m.Offset, 10)}
		emit(map[string]any{"event": "producer_send_success", "id": id, "topic": m.Topic, "partition": m.Partition, "offset": out[i]["offset"]})
	}
	return map[string]any{"records": out}, nil
}

func txnSendOffsets(id int64, raw json.RawMessage) (any, error) {
	cmd, err := decode[struct {
		ConsumerHandle string `json:"consumer_handle"`
		Offsets        []struct {
			Topic     string `json:"topic"`
			Partition int32  `json:"partition"`
			Offset    string `json:"offset"`
		} `json:"offsets"`
	}](raw)
	if err != nil {
		return nil, err
	}
	sessionsMu.Lock()
	m := sessions[cmd.ConsumerHandle]
	sessionsMu.Unlock()
	if m == nil {
		return nil, derr("UNKNOWN", "DriverError", "no open consumer session %q", cmd.ConsumerHandle)
	}
	offsets := map[string][]*sarama.PartitionOffsetMetadata{}
	for _, o := range cmd.Offsets {
		n, err := strconv.ParseInt(o.Offset, 10, 64)
		if err != nil {
			return nil, derr("UNSUPPORTED_SETTING", "DriverError", "offset %q is not a decimal number", o.Offset)
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
	cmd, err := decode[struct {
		Handle string `json:"handle"`
	}](raw)
	if err != nil {
		return nil, err
	}
	txnMu.Lock()
	t := txns[cmd.Handle]
	delete(txns, cmd.Handle)
	txnMu.Unlock()
	if t != nil {
		t.close()
	}
	return map[string]any{}, nil
}

func registerHandlers() {
	for op, h := range map[string]handler{
		"check_login": checkLogin, "create_topics": createTopics, "delete_topics": deleteTopics,
		"produce": produce, "consume": consume,
		"list_topics": listTopics, "describe_topics": describeTopics, "describe_topic_config": describeTopicConfig,
		"list_groups": listGroups, "describe_group": describeGroup, "committed_offsets": committedOffsets,
		"consumer_open": consumerOpen, "consumer_poll": consumerPoll, "consumer_commit": consumerCommit,
		"consumer_close":    consumerClose,
		"txn_producer_open": txnProducerOpen, "txn_begin": txnBegin, "txn_send": txnSend,
		"txn_send_offsets": txnSendOffsets, "txn_commit": txnCommit, "txn_abort": txnAbort,
		"txn_producer_close": txnProducerClose,
	} {
		handlers[op] = h
	}
}

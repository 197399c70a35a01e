// The one-shot operations of PROTOCOL.md: check_login, create/delete topics, produce, consume
// and the admin calls. Each opens its own Sarama client, answers, and closes it.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/IBM/sarama"
	"kop-conformance/harness/clients/go/driverkit"
)

// bounded runs fn on its own goroutine and gives up after d with TIMEOUT (the client fn uses
// is closed by its owner's deferred close, which ends fn's work too).
func bounded[T any](d time.Duration, what string, fn func() (T, error)) (T, error) {
	type res struct {
		v   T
		err error
	}
	ch := make(chan res, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				var zero T
				ch <- res{zero, driverkit.Errorf("UNKNOWN", "panic", "%s: %v", what, r)}
			}
		}()
		v, err := fn()
		ch <- res{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-time.After(d):
		var zero T
		return zero, driverkit.Errorf("TIMEOUT", "Timeout", "%s did not finish within %s", what, d)
	}
}

// closeBounded closes a client without letting a stuck close hold up the answer.
func closeBounded(what string, closeFn func() error) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := closeFn(); err != nil {
			driverkit.Logf("%s: close: %v", what, err)
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		driverkit.Logf("%s: close did not finish within 5 s", what)
	}
}

// newClient connects, logs in and makes a metadata round trip (Sarama's NewClient does all three).
func newClient(raw json.RawMessage, clientID string, adjust func(*sarama.Config)) (sarama.Client, *sarama.Config, error) {
	conn, err := driverkit.ConnOf(raw)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := newConfig(conn, clientID)
	if err != nil {
		return nil, nil, err
	}
	if adjust != nil {
		adjust(cfg)
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, driverkit.Errorf("UNSUPPORTED_SETTING", fmt.Sprintf("%T", err), "%v", err)
	}
	addrs, err := conn.Brokers()
	if err != nil {
		return nil, nil, err
	}
	client, err := bounded(30*time.Second, "connecting to "+conn.Bootstrap, func() (sarama.Client, error) {
		return sarama.NewClient(addrs, cfg)
	})
	if err != nil {
		if c := canonical(err); c == "" || c == "TIMEOUT" {
			if cause := probe(addrs, cfg); cause != nil {
				return nil, nil, fmt.Errorf("%w (first broker's connection error: %w)", err, cause)
			}
		}
		return nil, nil, err
	}
	return client, cfg, nil
}

// probe opens one broker connection by hand to learn why NewClient gave up: Sarama's "run out
// of available brokers" does not always carry the cause (a refused SASL handshake, say).
func probe(addrs []string, cfg *sarama.Config) error {
	b := sarama.NewBroker(addrs[0])
	cause, _ := bounded(12*time.Second, "probing "+addrs[0], func() (error, error) {
		if err := b.Open(cfg); err != nil && !errors.Is(err, sarama.ErrAlreadyConnected) {
			return err, nil
		}
		if _, err := b.Connected(); err != nil {
			return err, nil
		}
		// Connected (and logged in, where SASL is on): the first request shows what the
		// endpoint does with this connection (a listener that expects SASL may just close it).
		_, err := b.GetMetadata(sarama.NewMetadataRequest(cfg.Version, nil))
		return err, nil
	})
	go b.Close()
	driverkit.Logf("probe of %s after %q: %v", addrs[0], "NewClient", cause)
	return cause
}

func checkLogin(id int64, raw json.RawMessage) (any, error) {
	client, _, err := newClient(raw, "kop-conformance-sarama", nil)
	if err != nil {
		return nil, err
	}
	defer closeBounded("check_login", client.Close)
	return map[string]any{"brokers": len(client.Brokers())}, nil
}

// newAdmin is a ClusterAdmin over a client that has logged in (a refused login fails here).
func newAdmin(raw json.RawMessage) (sarama.ClusterAdmin, func(), error) {
	client, _, err := newClient(raw, "kop-conformance-sarama-admin", func(c *sarama.Config) {
		c.Admin.Timeout = requestTimeout
		c.Admin.Retry.Max = 2
		// Asking about a topic must not create it.
		c.Metadata.AllowAutoTopicCreation = false
	})
	if err != nil {
		return nil, nil, err
	}
	admin, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		client.Close()
		return nil, nil, err
	}
	untrack := driverkit.Track(func() { admin.Close() })
	return admin, func() { untrack(); closeBounded("admin", admin.Close) }, nil
}

const adminBound = 30 * time.Second

// adminOp decodes a command into a C and runs fn with an admin client that is closed after it.
// idle (may be nil) answers without connecting when it returns non-nil.
func adminOp[C any](raw json.RawMessage, idle func(cmd *C) any, fn func(cmd *C, admin sarama.ClusterAdmin) (any, error)) (any, error) {
	cmd, err := driverkit.Decode[C](raw)
	if err != nil {
		return nil, err
	}
	if idle != nil {
		if answer := idle(cmd); answer != nil {
			return answer, nil
		}
	}
	admin, done, err := newAdmin(raw)
	if err != nil {
		return nil, err
	}
	defer done()
	return fn(cmd, admin)
}

type topicsCmd struct {
	Topics []string `json:"topics"`
}

type groupCmd struct {
	GroupID string `json:"group_id"`
}

func createTopics(id int64, raw json.RawMessage) (any, error) {
	type topic struct {
		Name       string `json:"name"`
		Partitions int32  `json:"partitions"`
	}
	return adminOp(raw, nil, func(cmd *struct {
		Topics []topic `json:"topics"`
	}, admin sarama.ClusterAdmin) (any, error) {
		for _, t := range cmd.Topics {
			p := max(t.Partitions, 1)
			_, err := bounded(adminBound, "create_topics "+t.Name, func() (struct{}, error) {
				return struct{}{}, admin.CreateTopic(t.Name, &sarama.TopicDetail{NumPartitions: p, ReplicationFactor: 1}, false)
			})
			if err != nil && !errors.Is(err, sarama.ErrTopicAlreadyExists) {
				return nil, err
			}
		}
		return map[string]any{}, nil
	})
}

// noTopics answers a command that names no topic without connecting.
func noTopics(answer any) func(*topicsCmd) any {
	return func(cmd *topicsCmd) any {
		if len(cmd.Topics) == 0 {
			return answer
		}
		return nil
	}
}

func deleteTopics(id int64, raw json.RawMessage) (any, error) {
	return adminOp(raw, noTopics(map[string]any{}), func(cmd *topicsCmd, admin sarama.ClusterAdmin) (any, error) {
		for _, t := range cmd.Topics {
			_, err := bounded(adminBound, "delete_topics "+t, func() (struct{}, error) { return struct{}{}, admin.DeleteTopic(t) })
			if err != nil && !errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
				return nil, err
			}
		}
		return map[string]any{}, nil
	})
}

// listNames answers a listing op: the sorted names of what list returns, under key.
func listNames[V any](raw json.RawMessage, op, key string, list func(sarama.ClusterAdmin) (map[string]V, error)) (any, error) {
	return adminOp(raw, nil, func(_ *struct{}, admin sarama.ClusterAdmin) (any, error) {
		named, err := bounded(adminBound, op, func() (map[string]V, error) { return list(admin) })
		if err != nil {
			return nil, err
		}
		return map[string]any{key: driverkit.SortedKeys(named)}, nil
	})
}

func listTopics(id int64, raw json.RawMessage) (any, error) {
	return listNames(raw, "list_topics", "topics", sarama.ClusterAdmin.ListTopics)
}

func describeTopics(id int64, raw json.RawMessage) (any, error) {
	return adminOp(raw, noTopics(map[string]any{"topics": []any{}}), func(cmd *topicsCmd, admin sarama.ClusterAdmin) (any, error) {
		md, err := bounded(adminBound, "describe_topics", func() ([]*sarama.TopicMetadata, error) { return admin.DescribeTopics(cmd.Topics) })
		if err != nil {
			return nil, err
		}
		byName := map[string]*sarama.TopicMetadata{}
		for _, t := range md {
			byName[t.Name] = t
		}
		out := []map[string]any{}
		for _, name := range cmd.Topics {
			t := byName[name]
			if t == nil {
				return nil, driverkit.Errorf("UNKNOWN_TOPIC_OR_PARTITION", "sarama.KError(UNKNOWN_TOPIC_OR_PARTITION)", "describe_topics: %s is not in the metadata answer", name)
			}
			if t.Err != sarama.ErrNoError {
				return nil, fmt.Errorf("describe_topics %s: %w", name, t.Err)
			}
			out = append(out, map[string]any{"name": name, "partitions": len(t.Partitions)})
		}
		return map[string]any{"topics": out}, nil
	})
}

func describeTopicConfig(id int64, raw json.RawMessage) (any, error) {
	return adminOp(raw, nil, func(cmd *struct {
		Topic string `json:"topic"`
	}, admin sarama.ClusterAdmin) (any, error) {
		entries, err := bounded(adminBound, "describe_topic_config", func() ([]sarama.ConfigEntry, error) {
			return admin.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: cmd.Topic})
		})
		if err != nil {
			return nil, err
		}
		configs := map[string]any{}
		for _, e := range entries {
			if e.Sensitive {
				configs[e.Name] = nil
			} else {
				configs[e.Name] = e.Value
			}
		}
		return map[string]any{"configs": configs}, nil
	})
}

func listGroups(id int64, raw json.RawMessage) (any, error) {
	return listNames(raw, "list_groups", "groups", sarama.ClusterAdmin.ListConsumerGroups)
}

func describeGroup(id int64, raw json.RawMessage) (any, error) {
	return adminOp(raw, nil, func(cmd *groupCmd, admin sarama.ClusterAdmin) (any, error) {
		ds, err := bounded(adminBound, "describe_group", func() ([]*sarama.GroupDescription, error) {
			return admin.DescribeConsumerGroups([]string{cmd.GroupID})
		})
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			if d.GroupId != cmd.GroupID {
				continue
			}
			if d.Err != sarama.ErrNoError {
				return nil, fmt.Errorf("describe_group %s: %w", cmd.GroupID, d.Err)
			}
			return map[string]any{"group_id": cmd.GroupID, "state": d.State, "members": len(d.Members)}, nil
		}
		return nil, driverkit.Errorf("UNKNOWN", "DriverError", "describe_group: no description of %s in the answer", cmd.GroupID)
	})
}

func committedOffsets(id int64, raw json.RawMessage) (any, error) {
	return adminOp(raw, nil, func(cmd *groupCmd, admin sarama.ClusterAdmin) (any, error) {
		resp, err := bounded(adminBound, "committed_offsets", func() (*sarama.OffsetFetchResponse, error) {
			return admin.ListConsumerGroupOffsets(cmd.GroupID, nil)
		})
		if err != nil {
			return nil, err
		}
		blocks := resp.Blocks
		if len(resp.Groups) > 0 {
			blocks = resp.Groups[0].Blocks
		}
		offsets := map[driverkit.TopicPartition]int64{}
		for topic, parts := range blocks {
			for p, b := range parts {
				if b.Err != sarama.ErrNoError {
					return nil, fmt.Errorf("committed_offsets %s-%d: %w", topic, p, b.Err)
				}
				if b.Offset >= 0 {
					offsets[driverkit.TopicPartition{Topic: topic, Partition: p}] = b.Offset
				}
			}
		}
		return map[string]any{"offsets": driverkit.OffsetList(offsets)}, nil
	})
}

// ---------------------------------------------------------------------------------------
// produce

type outRecord struct {
	Key       *string           `json:"key"`
	Value     *string           `json:"value"`
	Headers   map[string]string `json:"headers"`
	Partition *int32            `json:"partition"`
	Timestamp *string           `json:"timestamp"`
}

// explicitPartition marks a message whose partition the command chose.
type explicitPartition struct{}

// partitioner: the record's own partition where the command names one, else Sarama's default
// (hash of the key, random without one).
type partitioner struct{ hash sarama.Partitioner }

func newPartitioner(topic string) sarama.Partitioner {
	return &partitioner{hash: sarama.NewHashPartitioner(topic)}
}

func (p *partitioner) Partition(m *sarama.ProducerMessage, n int32) (int32, error) {
	if _, ok := m.Metadata.(explicitPartition); ok {
		if m.Partition < 0 || m.Partition >= n {
			return -1, sarama.ErrInvalidPartition
		}
		return m.Partition, nil
	}
	return p.hash.Partition(m, n)
}

func (p *partitioner) RequiresConsistency() bool { return true }

func toMessage(topic string, r outRecord) (*sarama.ProducerMessage, error) {
	m := &sarama.ProducerMessage{Topic: topic}
	if r.Key != nil {
		m.Key = sarama.StringEncoder(*r.Key)
	}
	if r.Value != nil {
		m.Value = sarama.StringEncoder(*r.Value)
	}
	for _, k := range driverkit.SortedKeys(r.Headers) {
		m.Headers = append(m.Headers, sarama.RecordHeader{Key: []byte(k), Value: []byte(r.Headers[k])})
	}
	if r.Partition != nil {
		m.Partition = *r.Partition
		m.Metadata = explicitPartition{}
	}
	if r.Timestamp != nil {
		ms, err := strconv.ParseInt(*r.Timestamp, 10, 64)
		if err != nil {
			return nil, driverkit.Errorf("UNSUPPORTED_SETTING", "DriverError", "timestamp %q is not a decimal number", *r.Timestamp)
		}
		m.Timestamp = time.UnixMilli(ms)
	}
	return m, nil
}

func toMessages(topic string, records []outRecord) ([]*sarama.ProducerMessage, error) {
	msgs := make([]*sarama.ProducerMessage, len(records))
	for i, r := range records {
		m, err := toMessage(topic, r)
		if err != nil {
			return nil, err
		}
		msgs[i] = m
	}
	return msgs, nil
}

var compressions = map[string]sarama.CompressionCodec{
	"none": sarama.CompressionNone, "gzip": sarama.CompressionGZIP, "snappy": sarama.CompressionSnappy,
	"lz4": sarama.CompressionLZ4, "zstd": sarama.CompressionZSTD,
}

const produceBound = 30 * time.Second

func produce(id int64, raw json.RawMessage) (any, error) {
	cmd, err := driverkit.Decode[struct {
		Topic       string      `json:"topic"`
		Records     []outRecord `json:"records"`
		Acks        *string     `json:"acks"`
		Compression string      `json:"compression"`
		Idempotence *bool       `json:"idempotence"`
	}](raw)
	if err != nil {
		return nil, err
	}
	acks := sarama.WaitForAll
	if cmd.Acks != nil {
		switch *cmd.Acks {
		case "0":
			acks = sarama.NoResponse
		case "1":
			acks = sarama.WaitForLocal
		case "all", "-1":
		default:
			return nil, driverkit.Errorf("UNSUPPORTED_SETTING", "DriverError", "acks %q", *cmd.Acks)
		}
	}
	codec := sarama.CompressionNone
	if cmd.Compression != "" {
		c, ok := compressions[cmd.Compression]
		if !ok {
			return nil, driverkit.Errorf("UNSUPPORTED_SETTING", "DriverError", "compression %q", cmd.Compression)
		}
		codec = c
	}
	msgs, err := toMessages(cmd.Topic, cmd.Records)
	if err != nil {
		return nil, err
	}
	client, _, err := newClient(raw, "kop-conformance-sarama-producer", func(c *sarama.Config) {
		c.Producer.RequiredAcks = acks
		c.Producer.Compression = codec
		c.Producer.Return.Successes = true
		c.Producer.Return.Errors = true
		c.Producer.Partitioner = newPartitioner
		c.Producer.Timeout = requestTimeout
		// A topic created (or auto-created) a moment ago may not be in the metadata yet:
		// UNKNOWN_TOPIC_OR_PARTITION and LEADER_NOT_AVAILABLE are retriable, as in Java's
		// producer, which waits up to max.block.ms for the topic's metadata.
		c.Producer.Retry.Max = 10
		c.Producer.Retry.Backoff = 300 * time.Millisecond
		c.Metadata.Retry.Max = 10
		c.Metadata.Retry.Backoff = 300 * time.Millisecond
		// One request in flight keeps the records of a partition in the order sent across retries.
		c.Net.MaxOpenRequests = 1
		if cmd.Idempotence != nil && *cmd.Idempotence {
			c.Producer.Idempotent = true
		}
	})
	if err != nil {
		return nil, err
	}
	producer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		client.Close()
		return nil, err
	}
	untrack := driverkit.Track(func() { producer.Close(); client.Close() })
	defer func() {
		untrack()
		closeBounded("producer", producer.Close)
		closeBounded("producer client", client.Close)
	}()
	_, err = bounded(produceBound, fmt.Sprintf("produce of %d records", len(msgs)), func() (struct{}, error) {
		return struct{}{}, producer.SendMessages(msgs)
	})
	if err != nil {
		return nil, err
	}
	return sent(id, msgs, acks == sarama.NoResponse), nil
}

// sent is the result of a produce: each message's topic, partition and offset ("-1" when
// the broker does not answer, acks=0) in the order sent, each also reported as an event.
func sent(id int64, msgs []*sarama.ProducerMessage, unanswered bool) map[string]any {
	out := make([]map[string]any, len(msgs))
	for i, m := range msgs {
		off := strconv.FormatInt(m.Offset, 10)
		if unanswered {
			off = "-1"
		}
		out[i] = map[string]any{"topic": m.Topic, "partition": m.Partition, "offset": off}
		driverkit.Emit(map[string]any{"event": "producer_send_success", "id": id, "topic": m.Topic, "partition": m.Partition, "offset": off})
	}
	return map[string]any{"records": out}
}

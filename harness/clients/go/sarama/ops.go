// The one-shot operations of PROTOCOL.md: check_login, create/delete topics, produce, consume
// and the admin calls. Each opens its own Sarama client, answers, and closes it.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/IBM/sarama"
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
				ch <- res{zero, derr("UNKNOWN", "panic", "%s: %v", what, r)}
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
		return zero, derr("TIMEOUT", "Timeout", "%s did not finish within %s", what, d)
	}
}

// closeBounded closes a client without letting a stuck close hold up the answer.
func closeBounded(what string, closeFn func() error) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := closeFn(); err != nil {
			logf("%s: close: %v", what, err)
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		logf("%s: close did not finish within 5 s", what)
	}
}

func decode[T any](raw json.RawMessage) (*T, error) {
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, derr("UNSUPPORTED_SETTING", "DriverError", "bad command: %v", err)
	}
	return &v, nil
}

// newClient connects, logs in and makes a metadata round trip (Sarama's NewClient does all three).
func newClient(raw json.RawMessage, clientID string, adjust func(*sarama.Config)) (sarama.Client, *sarama.Config, error) {
	conn, err := parseConn(raw)
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
		return nil, nil, derr("UNSUPPORTED_SETTING", fmt.Sprintf("%T", err), "%v", err)
	}
	addrs, err := conn.addrs()
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
	logf("probe of %s after %q: %v", addrs[0], "NewClient", cause)
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
	tid := track(func() { admin.Close() })
	return admin, func() { untrack(tid); closeBounded("admin", admin.Close) }, nil
}

const adminBound = 30 * time.Second

func createTopics(id int64, raw json.RawMessage) (any, error) {
	cmd, err := decode[struct {
		Topics []struct {
			Name       string `json:"name"`
			Partitions int32  `json:"partitions"`
		} `json:"topics"`
	}](raw)
	if err != nil {
		return nil, err
	}
	admin, done, err := newAdmin(raw)
	if err != nil {
		return nil, err
	}
	defer done()
	for _, t := range cmd.Topics {
		p := t.Partitions
		if p <= 0 {
			p = 1
		}
		_, err := bounded(adminBound, "create_topics "+t.Name, func() (struct{}, error) {
			return struct{}{}, admin.CreateTopic(t.Name, &sarama.TopicDetail{NumPartitions: p, ReplicationFactor: 1}, false)
		})
		if err != nil && !errors.Is(err, sarama.ErrTopicAlreadyExists) {
			return nil, err
		}
	}
	return map[string]any{}, nil
}

func deleteTopics(id int64, raw json.RawMessage) (any, error) {
	cmd, err := decode[struct {
		Topics []string `json:"topics"`
	}](raw)
	if err != nil {
		return nil, err
	}
	if len(cmd.Topics) == 0 {
		return map[string]any{}, nil
	}
	admin, done, err := newAdmin(raw)
	if err != nil {
		return nil, err
	}
	defer done()
	for _, t := range cmd.Topics {
		_, err := bounded(adminBound, "delete_topics "+t, func() (struct{}, error) { return struct{}{}, admin.DeleteTopic(t) })
		if err != nil && !errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
			return nil, err
		}
	}
	return map[string]any{}, nil
}

func listTopics(id int64, raw json.RawMessage) (any, error) {
	admin, done, err := newAdmin(raw)
	if err != nil {
		return nil, err
	}
	defer done()
	topics, err := bounded(adminBound, "list_topics", admin.ListTopics)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(topics))
	for n := range topics {
		names = append(names, n)
	}
	sort.Strings(names)
	return map[string]any{"topics": names}, nil
}

func describeTopics(id int64, raw json.RawMessage) (any, error) {
	cmd, err := decode[struct {
		Topics []string `json:"topics"`
	}](raw)
	if err != nil {
		return nil, err
	}
	if len(cmd.Topics) == 0 {
		return map[string]any{"topics": []any{}}, nil
	}
	admin, done, err := newAdmin(raw)
	if err != nil {
		return nil, err
	}
	defer done()
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
			return nil, derr("UNKNOWN_TOPIC_OR_PARTITION", "sarama.KError(UNKNOWN_TOPIC_OR_PARTITION)", "describe_topics: %s is not in the metadata answer", name)
		}
		if t.Err != sarama.ErrNoError {
			return nil, fmt.Errorf("describe_topics %s: %w", name, t.Err)
		}
		out = append(out, map[string]any{"name": name, "partitions": len(t.Partitions)})
	}
	return map[string]any{"topics": out}, nil
}

func describeTopicConfig(id int64, raw json.RawMessage) (any, error) {
	cmd, err := decode[struct {
		Topic string `json:"topic"`
	}](raw)
	if err != nil {
		return nil, err
	}
	admin, done, err := newAdmin(raw)
	if err != nil {
		return nil, err
	}
	defer done()
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
}

func listGroups(id int64, raw json.RawMessage) (any, error) {
	admin, done, err := newAdmin(raw)
	if err != nil {
		return nil, err
	}
	defer done()
	groups, err := bounded(adminBound, "list_groups", admin.ListConsumerGroups)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(groups))
	for g := range groups {
		names = append(names, g)
	}
	sort.Strings(names)
	return map[string]any{"groups": names}, nil
}

func describeGroup(id int64, raw json.RawMessage) (any, error) {
	cmd, err := decode[struct {
		GroupID string `json:"group_id"`
	}](raw)
	if err != nil {
		return nil, err
	}
	admin, done, err := newAdmin(raw)
	if err != nil {
		return nil, err
	}
	defer done()
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
	return nil, derr("UNKNOWN", "DriverError", "describe_group: no description of %s in the answer", cmd.GroupID)
}

func committedOffsets(id int64, raw json.RawMessage) (any, error) {
	cmd, err := decode[struct {
		GroupID string `json:"group_id"`
	}](raw)
	if err != nil {
		return nil, err
	}
	admin, done, err := newAdmin(raw)
	if err != nil {
		return nil, err
	}
	defer done()
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
	out := []map[string]any{}
	for topic, parts := range blocks {
		for p, b := range parts {
			if b.Err != sarama.ErrNoError {
				return nil, fmt.Errorf("committed_offsets %s-%d: %w", topic, p, b.Err)
			}
			if b.Offset >= 0 {
				out = append(out, map[string]any{"topic": topic, "partition": p, "offset": strconv.FormatInt(b.Offset, 10)})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i]["topic"] != out[j]["topic"] {
			return out[i]["topic"].(string) < out[j]["topic"].(string)
		}
		return out[i]["partition"].(int32) < out[j]["partition"].(int32)
	})
	return map[string]any{"offsets": out}, nil
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
	keys := make([]string, 0, len(r.Headers))
	for k := range r.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		m.Headers = append(m.Headers, sarama.RecordHeader{Key: []byte(k), Value: []byte(r.Headers[k])})
	}
	if r.Partition != nil {
		m.Partition = *r.Partition
		m.Metadata = explicitPartition{}
	}
	if r.Timestamp != nil {
		ms, err := strconv.ParseInt(*r.Timestamp, 10, 64)
		if err != nil {
			return nil, derr("UNSUPPORTED_SETTING", "DriverError", "timestamp %q is not a decimal number", *r.Timestamp)
		}
		m.Timestamp = time.UnixMilli(ms)
	}
	return m, nil
}

var compressions = map[string]sarama.CompressionCodec{
	"none": sarama.CompressionNone, "gzip": sarama.CompressionGZIP, "snappy": sarama.CompressionSnappy,
	"lz4": sarama.CompressionLZ4, "zstd": sarama.CompressionZSTD,
}

const produceBound = 30 * time.Second

func produce(id int64, raw json.RawMessage) (any, error) {
	cmd, err := decode[struct {
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
			return nil, derr("UNSUPPORTED_SETTING", "DriverError", "acks %q", *cmd.Acks)
		}
	}
	codec := sarama.CompressionNone
	if cmd.Compression != "" {
		c, ok := compressions[cmd.Compression]
		if !ok {
			return nil, derr("UNSUPPORTED_SETTING", "DriverError", "compression %q", cmd.Compression)
		}
		codec = c
	}
	msgs := make([]*sarama.ProducerMessage, len(cmd.Records))
	for i, r := range cmd.Records {
		if msgs[i], err = toMessage(cmd.Topic, r); err != nil {
			return nil, err
		}
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
	tid := track(func() { producer.Close(); client.Close() })
	defer func() {
		untrack(tid)
		closeBounded("producer", producer.Close)
		closeBounded("producer client", client.Close)
	}()
	_, err = bounded(produceBound, fmt.Sprintf("produce of %d records", len(msgs)), func() (struct{}, error) {
		return struct{}{}, producer.SendMessages(msgs)
	})
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(msgs))
	for i, m := range msgs {
		off := strconv.FormatInt(m.Offset, 10)
		if acks == sarama.NoResponse {
			off = "-1"
		}
		out[i] = map[string]any{"topic": m.Topic, "partition": m.Partition, "offset": off}
		emit(map[string]any{"event": "producer_send_success", "id": id, "topic": m.Topic, "partition": m.Partition, "offset": off})
	}
	return map[string]any{"records": out}, nil
}

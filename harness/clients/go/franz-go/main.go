// PROTOCOL.md driver for franz-go (github.com/twmb/franz-go, pure Go): kgo clients for
// produce / consume / sessions / transactions, kadm for the admin calls, configured with
// SeedBrokers, SASL (plain / scram mechanisms) and DialTLSConfig.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	"kop-conformance/harness/clients/go/driverkit"
)

const (
	clientName       = "franz-go"
	requestTimeout   = 15 * time.Second
	adminTimeout     = 30 * time.Second
	deliveryTimeout  = 30 * time.Second
	sessionTimeout   = 10 * time.Second
	heartbeatEvery   = 1 * time.Second
	commitTimeout    = 10 * time.Second
	leaveTimeout     = 5 * time.Second
	transactionBound = 25 * time.Second
)

var capabilities = []string{
	"headers", "admin.createTopics", "admin.deleteTopics", "groups.commit", "produce.acks", "produce.idempotent",
	"compression.gzip", "compression.snappy", "compression.lz4", "compression.zstd", "timestamps",
	"commit.async", "commit.auto", "admin.listTopics", "admin.describeTopics", "admin.describeConfigs",
	"admin.groups", "admin.committedOffsets", "groups.session", "consumer.seek", "api.versions", "transactions",
}

// connOf reads a command's conn (franz-go's handlers see the command as decoded JSON).
func connOf(cmd map[string]any) (*driverkit.Conn, error) {
	m, ok := cmd["conn"].(map[string]any)
	if !ok {
		return nil, driverkit.Errorf("UNSUPPORTED_SETTING", "DriverError", "conn is missing")
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, driverkit.Errorf("UNSUPPORTED_SETTING", "DriverError", "conn: %v", err)
	}
	var c driverkit.Conn
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, driverkit.Errorf("UNSUPPORTED_SETTING", "DriverError", "conn: %v", err)
	}
	return &c, nil
}

// baseOpts are the options every client of a command gets: brokers, security, bounds.
func baseOpts(c *driverkit.Conn) ([]kgo.Opt, error) {
	brokers, err := c.Brokers()
	if err != nil {
		return nil, err
	}
	sec, err := c.Security()
	if err != nil {
		return nil, err
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(brokers...),
		kgo.ClientID("kop-conformance-franz-go"),
		kgo.DialTimeout(10 * time.Second),
		kgo.RequestTimeoutOverhead(requestTimeout),
		kgo.RetryTimeout(requestTimeout),
		// As Java's clients do by default (allow.auto.create.topics): the broker decides.
		kgo.AllowAutoTopicCreation(),
		kgo.WithLogger(kgo.BasicLogger(driverkit.LogWriter, kgo.LogLevelWarn, nil)),
	}
	if sec.SASL {
		switch sec.Mechanism {
		case "PLAIN":
			opts = append(opts, kgo.SASL(plain.Auth{User: c.Username, Pass: c.Password}.AsMechanism()))
		case "SCRAM-SHA-256":
			opts = append(opts, kgo.SASL(scram.Auth{User: c.Username, Pass: c.Password}.AsSha256Mechanism()))
		case "SCRAM-SHA-512":
			opts = append(opts, kgo.SASL(scram.Auth{User: c.Username, Pass: c.Password}.AsSha512Mechanism()))
		}
	}
	if sec.TLS {
		cfg, err := c.SSL.TLSConfig()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	}
	return opts, nil
}

func newClient(cmd map[string]any, extra ...kgo.Opt) (*kgo.Client, error) {
	c, err := connOf(cmd)
	if err != nil {
		return nil, err
	}
	opts, err := baseOpts(c)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append(opts, extra...)...)
	if err != nil {
		return nil, driverkit.Errorf("UNSUPPORTED_SETTING", fmt.Sprintf("%T", err), "%v", err)
	}
	return cl, nil
}

// withClient runs fn with a fresh client that is closed (and untracked) afterwards.
func withClient(cmd map[string]any, extra []kgo.Opt, fn func(cl *kgo.Client) (any, error)) (any, error) {
	cl, err := newClient(cmd, extra...)
	if err != nil {
		return nil, err
	}
	untrack := driverkit.Track(cl.Close)
	defer func() { cl.Close(); untrack() }()
	return fn(cl)
}

func ctxFor(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// metadata makes one authenticated metadata round trip (no topics).
func metadata(ctx context.Context, cl *kgo.Client) (*kmsg.MetadataResponse, error) {
	req := kmsg.NewPtrMetadataRequest()
	req.Topics = []kmsg.MetadataRequestTopic{}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	return resp, nil
}

func checkLogin(_ int64, cmd map[string]any) (any, error) {
	return withClient(cmd, nil, func(cl *kgo.Client) (any, error) {
		ctx, cancel := ctxFor(20 * time.Second)
		defer cancel()
		md, err := metadata(ctx, cl)
		if err != nil {
			return nil, err
		}
		return map[string]any{"brokers": len(md.Brokers)}, nil
	})
}

func createTopics(_ int64, cmd map[string]any) (any, error) {
	list, _ := cmd["topics"].([]any)
	if len(list) == 0 {
		return map[string]any{}, nil
	}
	return withClient(cmd, nil, func(cl *kgo.Client) (any, error) {
		ctx, cancel := ctxFor(adminTimeout)
		defer cancel()
		req := kmsg.NewPtrCreateTopicsRequest()
		req.TimeoutMillis = int32(requestTimeout / time.Millisecond)
		for _, t := range list {
			m, _ := t.(map[string]any)
			rt := kmsg.NewCreateTopicsRequestTopic()
			rt.Topic = str(m, "name")
			p, ok := num(m["partitions"])
			if !ok || p < 1 {
				p = 1
			}
			rt.NumPartitions = int32(p)
			rt.ReplicationFactor = 1
			req.Topics = append(req.Topics, rt)
		}
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return nil, err
		}
		names := []string{}
		for _, t := range resp.Topics {
			if err := kerr.ErrorForCode(t.ErrorCode); err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
				return nil, withMessage(err, t.ErrorMessage, "create_topics "+t.Topic)
			}
			names = append(names, t.Topic)
		}
		awaitTopics(cl, names)
		return map[string]any{}, nil
	})
}

// awaitTopics waits (at most 10 s) until the broker's metadata lists every topic with its
// partitions: CreateTopics answers once the controller has the topic, and a request right
// after (DescribeConfigs, Produce) can reach a broker whose metadata does not have it yet.
// Not seeing them is logged, not an error: the creation itself was acknowledged.
func awaitTopics(cl *kgo.Client, names []string) {
	if len(names) == 0 {
		return
	}
	ctx, cancel := ctxFor(10 * time.Second)
	defer cancel()
	for {
		req := kmsg.NewPtrMetadataRequest()
		for _, n := range names {
			rt := kmsg.NewMetadataRequestTopic()
			rt.Topic = kmsg.StringPtr(n)
			req.Topics = append(req.Topics, rt)
		}
		resp, err := req.RequestWith(ctx, cl)
		if err == nil {
			ready := 0
			for _, t := range resp.Topics {
				if t.ErrorCode == 0 && len(t.Partitions) > 0 {
					ready++
				}
			}
			if ready == len(names) {
				return
			}
		}
		select {
		case <-ctx.Done():
			driverkit.Logf("create_topics: %v not all in the metadata after 10 s (last error: %v)", names, err)
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// withMessage keeps the kerr error (for its code) and adds the broker's message.
func withMessage(err error, brokerMsg *string, what string) error {
	if brokerMsg != nil && *brokerMsg != "" {
		return fmt.Errorf("%s: %w (%s)", what, err, *brokerMsg)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func deleteTopics(_ int64, cmd map[string]any) (any, error) {
	names := strList(cmd["topics"])
	if len(names) == 0 {
		return map[string]any{}, nil
	}
	return withClient(cmd, nil, func(cl *kgo.Client) (any, error) {
		ctx, cancel := ctxFor(adminTimeout)
		defer cancel()
		req := kmsg.NewPtrDeleteTopicsRequest()
		req.TimeoutMillis = int32(requestTimeout / time.Millisecond)
		req.TopicNames = names
		for _, n := range names {
			rt := kmsg.NewDeleteTopicsRequestTopic()
			rt.Topic = kmsg.StringPtr(n)
			req.Topics = append(req.Topics, rt)
		}
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			return nil, err
		}
		for _, t := range resp.Topics {
			if err := kerr.ErrorForCode(t.ErrorCode); err != nil && !errors.Is(err, kerr.UnknownTopicOrPartition) {
				name := ""
				if t.Topic != nil {
					name = *t.Topic
				}
				return nil, withMessage(err, t.ErrorMessage, "delete_topics "+name)
			}
		}
		return map[string]any{}, nil
	})
}

// ---- records ----

type partKey struct{}

// partitioner: a record's explicit partition where the command gave one, else franz-go's
// default (sticky for unkeyed records, murmur2 of the key like Java for keyed ones).
type partitioner struct{ def kgo.Partitioner }

type topicPartitioner struct{ def kgo.TopicPartitioner }

func (p partitioner) ForTopic(t string) kgo.TopicPartitioner {
	return topicPartitioner{p.def.ForTopic(t)}
}

func (p topicPartitioner) RequiresConsistency(r *kgo.Record) bool {
	if _, ok := r.Context.Value(partKey{}).(int32); ok {
		return true
	}
	return p.def.RequiresConsistency(r)
}

func (p topicPartitioner) Partition(r *kgo.Record, n int) int {
	if v, ok := r.Context.Value(partKey{}).(int32); ok {
		return int(v)
	}
	return p.def.Partition(r, n)
}

func optBytes(v any) []byte {
	if v == nil {
		return nil
	}
	if s, ok := v.(string); ok {
		return []byte(s)
	}
	return []byte(fmt.Sprint(v))
}

func toRecords(topic string, list []any) ([]*kgo.Record, error) {
	out := make([]*kgo.Record, 0, len(list))
	for _, x := range list {
		m, _ := x.(map[string]any)
		r := &kgo.Record{Topic: topic, Key: optBytes(m["key"]), Value: optBytes(m["value"]), Context: context.Background()}
		if h, ok := m["headers"].(map[string]any); ok {
			keys := make([]string, 0, len(h))
			for k := range h {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				r.Headers = append(r.Headers, kgo.RecordHeader{Key: k, Value: optBytes(h[k])})
			}
		}
		if p, ok := num(m["partition"]); ok && m["partition"] != nil {
			r.Context = context.WithValue(r.Context, partKey{}, int32(p))
		}
		if m["timestamp"] != nil {
			ts, ok := num(m["timestamp"])
			if !ok {
				return nil, driverkit.Errorf("UNSUPPORTED_SETTING", "DriverError", "timestamp %v is not a number", m["timestamp"])
			}
			r.Timestamp = time.UnixMilli(ts)
		}
		out = append(out, r)
	}
	return out, nil
}

func strPtr(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

func anyTimestamp(recs []*kgo.Record) bool {
	for _, r := range recs {
		if !r.Timestamp.IsZero() {
			return true
		}
	}
	return false
}

func recordOut(r *kgo.Record) map[string]any {
	h := map[string]any{}
	for _, x := range r.Headers {
		h[x.Key] = string(x.Value)
	}
	return map[string]any{"topic": r.Topic, "partition": r.Partition, "offset": strconv.FormatInt(r.Offset, 10),
		"key": strPtr(r.Key), "value": strPtr(r.Value), "headers": h, "timestamp": strconv.FormatInt(r.Timestamp.UnixMilli(), 10)}
}

// sendAll produces the records and waits for every acknowledgement; the answer lists them in
// the order sent (ProduceSync's results come in completion order; each record is filled in place).
func sendAll(ctx context.Context, cl *kgo.Client, id int64, recs []*kgo.Record, acks0 bool) ([]any, error) {
	for _, res := range cl.ProduceSync(ctx, recs...) {
		if res.Err != nil {
			return nil, res.Err
		}
	}
	out := make([]any, 0, len(recs))
	for _, r := range recs {
		off := strconv.FormatInt(r.Offset, 10)
		if acks0 {
			off = "-1"
		}
		driverkit.Emit(map[string]any{"event": "producer_send_success", "id": id, "topic": r.Topic, "partition": r.Partition, "offset": off})
		out = append(out, map[string]any{"topic": r.Topic, "partition": r.Partition, "offset": off})
	}
	return out, nil
}

func produce(id int64, cmd map[string]any) (any, error) {
	list, _ := cmd["records"].([]any)
	recs, err := toRecords(str(cmd, "topic"), list)
	if err != nil {
		return nil, err
	}
	opts := []kgo.Opt{
		kgo.RecordPartitioner(partitioner{kgo.StickyKeyPartitioner(nil)}),
		kgo.ProduceRequestTimeout(requestTimeout),
		// A topic just created (or being auto-created) may be missing from the first metadata
		// answers: keep trying within the delivery timeout, as Java does within max.block.ms.
		kgo.UnknownTopicRetries(-1),
	}
	acks := "all"
	if a, ok := cmd["acks"]; ok && a != nil {
		acks = fmt.Sprint(a)
	}
	idempotent := acks == "all" || acks == "-1"
	if v, ok := cmd["idempotence"].(bool); ok {
		if v && !idempotent {
			return nil, driverkit.Errorf("UNSUPPORTED_SETTING", "DriverError", "franz-go's idempotent producer requires acks=all (asked acks=%s)", acks)
		}
		idempotent = v
	}
	switch acks {
	case "0":
		opts = append(opts, kgo.RequiredAcks(kgo.NoAck()))
	case "1":
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()))
	case "all", "-1":
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	default:
		return nil, driverkit.Errorf("UNSUPPORTED_SETTING", "DriverError", "acks %q", acks)
	}
	if !idempotent {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	if c, ok := cmd["compression"].(string); ok && c != "" {
		var codec kgo.CompressionCodec
		switch c {
		case "none":
			codec = kgo.NoCompression()
		case "gzip":
			codec = kgo.GzipCompression()
		case "snappy":
			codec = kgo.SnappyCompression()
		case "lz4":
			codec = kgo.Lz4Compression()
		case "zstd":
			codec = kgo.ZstdCompression()
		default:
			return nil, driverkit.Errorf("UNSUPPORTED_SETTING", "DriverError", "compression %q", c)
		}
		opts = append(opts, kgo.ProducerBatchCompression(codec))
	}
	if !anyTimestamp(recs) {
		// franz-go measures the delivery timeout from a batch's first record's Timestamp
		// (sink.go, isTimedOut): a producer-set timestamp older than the timeout would fail at
		// once. With explicit timestamps the send is bounded by the context below instead.
		opts = append(opts, kgo.RecordDeliveryTimeout(deliveryTimeout))
	}
	return withClient(cmd, opts, func(cl *kgo.Client) (any, error) {
		ctx, cancel := ctxFor(deliveryTimeout + 5*time.Second)
		defer cancel()
		out, err := sendAll(ctx, cl, id, recs, acks == "0")
		if err != nil {
			return nil, err
		}
		return map[string]any{"records": out}, nil
	})
}

func isolation(cmd map[string]any) ([]kgo.Opt, error) {
	switch l := cmd["isolation_level"]; l {
	case nil:
		return nil, nil
	case "read_committed":
		return []kgo.Opt{kgo.FetchIsolationLevel(kgo.ReadCommitted())}, nil
	case "read_uncommitted":
		return []kgo.Opt{kgo.FetchIsolationLevel(kgo.ReadUncommitted())}, nil
	default:
		return nil, driverkit.Errorf("UNSUPPORTED_SETTING", "DriverError", "isolation_level %v", l)
	}
}

func groupOpts(cmd map[string]any) ([]kgo.Opt, error) {
	reset := kgo.NewOffset().AtEnd()
	if b, _ := cmd["from_beginning"].(bool); b {
		reset = kgo.NewOffset().AtStart()
	}
	iso, err := isolation(cmd)
	if err != nil {
		return nil, err
	}
	return append([]kgo.Opt{
		kgo.ConsumerGroup(str(cmd, "group_id")),
		kgo.ConsumeTopics(strList(cmd["topics"])...),
		kgo.ConsumeResetOffset(reset),
		kgo.SessionTimeout(sessionTimeout),
		kgo.HeartbeatInterval(heartbeatEvery),
	}, iso...), nil
}

type offsets map[string]map[int32]kgo.EpochOffset

func (o offsets) note(r *kgo.Record) {
	if o[r.Topic] == nil {
		o[r.Topic] = map[int32]kgo.EpochOffset{}
	}
	next := kgo.EpochOffset{Epoch: r.LeaderEpoch, Offset: r.Offset + 1}
	if cur, ok := o[r.Topic][r.Partition]; !ok || cur.Offset < next.Offset {
		o[r.Topic][r.Partition] = next
	}
}

func (o offsets) list() []driverkit.Offset {
	flat := map[driverkit.TopicPartition]int64{}
	for t, parts := range o {
		for p, eo := range parts {
			flat[driverkit.TopicPartition{Topic: t, Partition: p}] = eo.Offset
		}
	}
	return driverkit.OffsetList(flat)
}

// commitSync commits exactly `o` and checks every partition's answer.
func commitSync(cl *kgo.Client, o offsets) error {
	ctx, cancel := ctxFor(commitTimeout)
	defer cancel()
	var failed error
	cl.CommitOffsetsSync(ctx, o, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		failed = firstCommitError(resp, err)
	})
	return failed
}

func firstCommitError(resp *kmsg.OffsetCommitResponse, err error) error {
	if err != nil {
		return err
	}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if e := kerr.ErrorForCode(p.ErrorCode); e != nil {
				return fmt.Errorf("commit %s-%d: %w", t.Topic, p.Partition, e)
			}
		}
	}
	return nil
}

// pollErrors: the first decisive error of a poll (or the last other one, in *last).
func pollErrors(f kgo.Fetches, last **driverkit.Error) *driverkit.Error {
	for _, fe := range f.Errors() {
		if errors.Is(fe.Err, context.DeadlineExceeded) || errors.Is(fe.Err, context.Canceled) {
			continue
		}
		e := translate(fe.Err)
		if fe.Topic != "" {
			e = &driverkit.Error{Code: e.Code, Message: fmt.Sprintf("%s-%d: %s", fe.Topic, fe.Partition, e.Message), Class: e.Class}
		}
		if decisive(e) {
			return e
		}
		*last = e
	}
	return nil
}

func consume(id int64, cmd map[string]any) (any, error) {
	mode := "sync"
	if m, ok := cmd["commit"].(string); ok && m != "" {
		mode = m
	}
	if mode != "sync" && mode != "async" && mode != "auto" && mode != "none" {
		return nil, driverkit.Errorf("UNSUPPORTED_SETTING", "DriverError", "commit mode %q", mode)
	}
	count, err := requireInt(cmd, "count")
	if err != nil {
		return nil, err
	}
	timeoutMs, err := requireInt(cmd, "timeout_ms")
	if err != nil {
		return nil, err
	}
	opts, err := groupOpts(cmd)
	if err != nil {
		return nil, err
	}
	if mode != "auto" {
		opts = append(opts, kgo.DisableAutoCommit())
	}
	cl, err := newClient(cmd, opts...)
	if err != nil {
		return nil, err
	}
	untrack := driverkit.Track(cl.Close)
	defer func() {
		ctx, cancel := ctxFor(leaveTimeout)
		defer cancel()
		if mode == "auto" {
			// What auto-commit would commit at close: what the client handed out.
			cl.CommitUncommittedOffsets(ctx)
		}
		cl.LeaveGroupContext(ctx)
		cl.Close()
		untrack()
	}()
	deadline := time.Now().Add(time.Duration(timeoutMs) * time.Millisecond)
	var got []*kgo.Record
	var last *driverkit.Error
	// count counts distinct records: one delivered again (a member that lost its group re-reads
	// from the last commit) is returned, for the delivery checker, but not counted
	// (harness/clients/consume-count.ts).
	distinct := driverkit.DistinctRecords{}
	for int64(distinct.Len()) < count && time.Now().Before(deadline) {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		f := cl.PollRecords(ctx, int(count)-distinct.Len())
		cancel()
		if e := pollErrors(f, &last); e != nil {
			return nil, e
		}
		n := 0
		f.EachRecord(func(r *kgo.Record) { got = append(got, r); distinct.Add(r.Topic, r.Partition, r.Offset); n++ })
		if n > 0 {
			driverkit.Emit(map[string]any{"event": "records_consumed", "id": id, "count": n})
		}
	}
	if int64(distinct.Len()) < count {
		if last != nil && last.Code != "TIMEOUT" {
			return nil, &driverkit.Error{Code: last.Code, Message: fmt.Sprintf("consumed %d of %d records; franz-go reported %s", distinct.Len(), count, last.Message), Class: last.Class}
		}
		return nil, driverkit.Errorf("TIMEOUT", "DriverError", "consumed %d of %d records within %d ms", distinct.Len(), count, timeoutMs)
	}
	o := offsets{}
	for _, r := range got {
		o.note(r)
	}
	switch mode {
	case "sync":
		if err := commitSync(cl, o); err != nil {
			return nil, err
		}
	case "async":
		done := make(chan error, 1)
		cl.CommitOffsets(context.Background(), o, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			done <- firstCommitError(resp, err)
		})
		select {
		case err := <-done:
			if err != nil {
				return nil, err
			}
		case <-time.After(commitTimeout):
			return nil, driverkit.Errorf("TIMEOUT", "DriverError", "async commit not acknowledged within %s", commitTimeout)
		}
	}
	if mode == "sync" || mode == "async" {
		driverkit.Emit(map[string]any{"event": "offsets_committed", "id": id, "offsets": o.list()})
	}
	recs := make([]any, 0, len(got))
	for _, r := range got {
		recs = append(recs, recordOut(r))
	}
	return map[string]any{"records": recs}, nil
}

// ---- admin ----

func withAdmin(cmd map[string]any, fn func(ctx context.Context, adm *kadm.Client) (any, error)) (any, error) {
	return withClient(cmd, nil, func(cl *kgo.Client) (any, error) {
		ctx, cancel := ctxFor(adminTimeout)
		defer cancel()
		return fn(ctx, kadm.NewClient(cl))
	})
}

func listTopics(_ int64, cmd map[string]any) (any, error) {
	return withAdmin(cmd, func(ctx context.Context, adm *kadm.Client) (any, error) {
		td, err := adm.ListTopics(ctx)
		if err != nil {
			return nil, err
		}
		names := []string{}
		for _, t := range td.Sorted() {
			if t.Err == nil {
				names = append(names, t.Topic)
			}
		}
		return map[string]any{"topics": names}, nil
	})
}

func describeTopics(_ int64, cmd map[string]any) (any, error) {
	names := strList(cmd["topics"])
	if len(names) == 0 {
		return map[string]any{"topics": []any{}}, nil
	}
	return withAdmin(cmd, func(ctx context.Context, adm *kadm.Client) (any, error) {
		td, err := adm.ListTopics(ctx, names...)
		if err != nil {
			return nil, err
		}
		out := []any{}
		for _, n := range names {
			d, ok := td[n]
			if !ok {
				return nil, fmt.Errorf("describe_topics %s: %w", n, kerr.UnknownTopicOrPartition)
			}
			if d.Err != nil {
				return nil, fmt.Errorf("describe_topics %s: %w", n, d.Err)
			}
			out = append(out, map[string]any{"name": n, "partitions": len(d.Partitions)})
		}
		return map[string]any{"topics": out}, nil
	})
}

func describeTopicConfig(_ int64, cmd map[string]any) (any, error) {
	topic := str(cmd, "topic")
	return withAdmin(cmd, func(ctx context.Context, adm *kadm.Client) (any, error) {
		rcs, err := adm.DescribeTopicConfigs(ctx, topic)
		if err != nil {
			return nil, err
		}
		rc, err := rcs.On(topic, nil)
		if err != nil {
			return nil, fmt.Errorf("describe_configs %s: %w", topic, err)
		}
		if rc.Err != nil {
			return nil, fmt.Errorf("describe_configs %s: %w", topic, rc.Err)
		}
		cfgs := map[string]any{}
		for _, c := range rc.Configs {
			if c.Value == nil {
				cfgs[c.Key] = nil
			} else {
				cfgs[c.Key] = *c.Value
			}
		}
		return map[string]any{"configs": cfgs}, nil
	})
}

func listGroups(_ int64, cmd map[string]any) (any, error) {
	return withAdmin(cmd, func(ctx context.Context, adm *kadm.Client) (any, error) {
		lg, err := adm.ListGroups(ctx)
		if err != nil {
			return nil, err
		}
		names := lg.Groups()
		sort.Strings(names)
		return map[string]any{"groups": names}, nil
	})
}

func describeGroup(_ int64, cmd map[string]any) (any, error) {
	group := str(cmd, "group_id")
	return withAdmin(cmd, func(ctx context.Context, adm *kadm.Client) (any, error) {
		dg, err := adm.DescribeGroups(ctx, group)
		if err != nil {
			return nil, err
		}
		d, ok := dg[group]
		if !ok {
			return nil, driverkit.Errorf("UNKNOWN", "DriverError", "describe_group %s: no answer for the group", group)
		}
		if d.Err != nil {
			return nil, fmt.Errorf("describe_group %s: %w", group, d.Err)
		}
		return map[string]any{"group_id": group, "state": d.State, "members": len(d.Members)}, nil
	})
}

func committedOffsets(_ int64, cmd map[string]any) (any, error) {
	group := str(cmd, "group_id")
	return withAdmin(cmd, func(ctx context.Context, adm *kadm.Client) (any, error) {
		or, err := adm.FetchOffsets(ctx, group)
		if err != nil {
			return nil, err
		}
		committed := map[driverkit.TopicPartition]int64{}
		var firstErr error
		or.Each(func(o kadm.OffsetResponse) {
			if o.Err != nil && firstErr == nil {
				firstErr = fmt.Errorf("committed_offsets %s-%d: %w", o.Topic, o.Partition, o.Err)
			}
			if o.Err == nil && o.At >= 0 {
				committed[driverkit.TopicPartition{Topic: o.Topic, Partition: o.Partition}] = o.At
			}
		})
		if firstErr != nil {
			return nil, firstErr
		}
		return map[string]any{"offsets": driverkit.OffsetList(committed)}, nil
	})
}

// clientAPIVersions: every API key franz-go knows, from version 0 (kmsg has every version
// of every request) to the newest it sends (kversion.Stable(), the client's default).
func clientAPIVersions(_ int64, _ map[string]any) (any, error) {
	apis := []any{}
	kversion.Stable().EachMaxKeyVersion(func(k, v int16) {
		req := kmsg.RequestForKey(k)
		name := fmt.Sprintf("key %d", k)
		if req != nil {
			name = kmsg.NameForKey(k)
		}
		apis = append(apis, map[string]any{"key": int(k), "name": name, "min": 0, "max": int(v)})
	})
	return map[string]any{"apis": apis}, nil
}

func main() {
	handlers := map[string]driverkit.Handler{}
	for _, ops := range []map[string]handler{{
		"check_login":           checkLogin,
		"create_topics":         createTopics,
		"delete_topics":         deleteTopics,
		"produce":               produce,
		"consume":               consume,
		"list_topics":           listTopics,
		"describe_topics":       describeTopics,
		"describe_topic_config": describeTopicConfig,
		"list_groups":           listGroups,
		"describe_group":        describeGroup,
		"committed_offsets":     committedOffsets,
		"client_api_versions":   clientAPIVersions,
	}, sessionHandlers, txnHandlers} {
		for op, h := range ops {
			handlers[op] = h.kit()
		}
	}
	driverkit.Driver{
		Client:         clientName,
		Version:        driverkit.ModuleVersion("github.com/twmb/franz-go"),
		Capabilities:   capabilities,
		Handlers:       handlers,
		Errors:         franzErrors,
		ExitCloseBound: 3 * time.Second,
	}.Serve()
}

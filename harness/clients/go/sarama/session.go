// Group members on Sarama's ConsumerGroup: the one-shot `consume` and the consumer sessions of
// PROTOCOL.md ("Consumer sessions"). Sarama drives a member from its own goroutines
// (Consume → Setup → one ConsumeClaim per partition → Cleanup, again after each rebalance);
// here ConsumeClaim hands the records to a buffer that a poll drains, so a poll is bounded by
// its timeout whatever the group is doing. A rebalance drops the records not yet handed out
// (the new owner reads them from the committed offset, as Kafka's own consumer does).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"kop-conformance/harness/clients/go/driverkit"
)

type tp = driverkit.TopicPartition

// Group timeouts (as the other drivers use them).
const (
	sessionTimeout    = 10 * time.Second
	heartbeatInterval = 1 * time.Second
	rebalanceTimeout  = 20 * time.Second
)

// Codes after which a member stops trying: the endpoint refused it, it will not change its mind.
var decisiveCodes = map[string]bool{
	"SASL_AUTHENTICATION_FAILED": true, "UNSUPPORTED_SASL_MECHANISM": true, "TLS_HANDSHAKE_FAILED": true,
	"TOPIC_AUTHORIZATION_FAILED": true, "GROUP_AUTHORIZATION_FAILED": true, "CLUSTER_AUTHORIZATION_FAILED": true,
	"INVALID_TOPIC_EXCEPTION": true, "INVALID_GROUP_ID": true, "UNSUPPORTED_SETTING": true,
}

type member struct {
	groupID string
	topics  []string
	client  sarama.Client
	group   sarama.ConsumerGroup
	ctx     context.Context
	cancel  context.CancelFunc
	loop    chan struct{} // closed when the Consume loop ended
	wake    chan struct{}

	mu     sync.Mutex
	buf    []*sarama.ConsumerMessage
	sess   sarama.ConsumerGroupSession
	claims map[string][]int32
	errs   []error
	fatal  error
	next   map[tp]int64 // position after every record handed out

	closeOnce sync.Once
	untrack   func()
}

func (m *member) signal() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

func (m *member) Setup(s sarama.ConsumerGroupSession) error {
	m.mu.Lock()
	m.sess = s
	m.claims = s.Claims()
	m.mu.Unlock()
	m.signal()
	return nil
}

func (m *member) Cleanup(s sarama.ConsumerGroupSession) error {
	m.mu.Lock()
	if m.sess == s {
		m.sess = nil
		m.claims = nil
	}
	m.buf = nil
	m.mu.Unlock()
	return nil
}

func (m *member) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	driverkit.Logf("group %s: claim %s-%d starts at offset %d (high-water mark %d)", m.groupID, c.Topic(), c.Partition(), c.InitialOffset(), c.HighWaterMarkOffset())
	for {
		select {
		case msg, ok := <-c.Messages():
			if !ok {
				return nil
			}
			m.mu.Lock()
			if m.sess == s {
				m.buf = append(m.buf, msg)
			}
			m.mu.Unlock()
			m.signal()
		case <-s.Context().Done():
			return nil
		}
	}
}

func (m *member) record(err error) {
	if err == nil {
		return
	}
	m.mu.Lock()
	m.errs = append(m.errs, err)
	if len(m.errs) > 50 {
		m.errs = m.errs[len(m.errs)-50:]
	}
	if m.fatal == nil && decisiveCodes[canonical(err)] {
		m.fatal = err
	}
	m.mu.Unlock()
	driverkit.Logf("group %s: %v", m.groupID, err)
	m.signal()
}

func (m *member) run() {
	defer close(m.loop)
	for m.ctx.Err() == nil {
		err := m.group.Consume(m.ctx, m.topics, m)
		if errors.Is(err, sarama.ErrClosedConsumerGroup) {
			return
		}
		if err != nil {
			m.record(err)
			m.mu.Lock()
			fatal := m.fatal
			m.mu.Unlock()
			if fatal != nil {
				return
			}
			select {
			case <-m.ctx.Done():
			case <-time.After(250 * time.Millisecond):
			}
		}
	}
}

type memberOpts struct {
	GroupID        string   `json:"group_id"`
	Topics         []string `json:"topics"`
	FromBeginning  bool     `json:"from_beginning"`
	IsolationLevel *string  `json:"isolation_level"`
}

func openMember(raw json.RawMessage, o *memberOpts, autoCommit bool) (*member, error) {
	if len(o.Topics) == 0 {
		return nil, driverkit.Errorf("UNSUPPORTED_SETTING", "DriverError", "no topics to subscribe to")
	}
	isolation := sarama.ReadUncommitted
	if o.IsolationLevel != nil {
		switch *o.IsolationLevel {
		case "read_committed":
			isolation = sarama.ReadCommitted
		case "read_uncommitted":
		default:
			return nil, driverkit.Errorf("UNSUPPORTED_SETTING", "DriverError", "isolation_level %q", *o.IsolationLevel)
		}
	}
	client, _, err := newClient(raw, "kop-conformance-sarama-consumer", func(c *sarama.Config) {
		c.Consumer.Return.Errors = true
		c.Consumer.IsolationLevel = isolation
		if o.FromBeginning {
			c.Consumer.Offsets.Initial = sarama.OffsetOldest
		} else {
			c.Consumer.Offsets.Initial = sarama.OffsetNewest
		}
		c.Consumer.Offsets.AutoCommit.Enable = autoCommit
		c.Consumer.Offsets.AutoCommit.Interval = time.Second
		c.Consumer.Group.Session.Timeout = sessionTimeout
		c.Consumer.Group.Heartbeat.Interval = heartbeatInterval
		c.Consumer.Group.Rebalance.Timeout = rebalanceTimeout
		c.Consumer.Group.Rebalance.Retry.Max = 4
		c.Consumer.MaxWaitTime = 250 * time.Millisecond
	})
	if err != nil {
		return nil, err
	}
	group, err := sarama.NewConsumerGroupFromClient(o.GroupID, client)
	if err != nil {
		client.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &member{groupID: o.GroupID, topics: o.Topics, client: client, group: group, ctx: ctx, cancel: cancel,
		loop: make(chan struct{}), wake: make(chan struct{}, 1), next: map[tp]int64{}}
	m.untrack = driverkit.Track(func() { m.close(4 * time.Second) })
	go func() {
		for err := range group.Errors() {
			m.record(err)
		}
	}()
	go m.run()
	return m, nil
}

// close leaves the group (Sarama's Close sends LeaveGroup) within d.
func (m *member) close(d time.Duration) error {
	var err error
	m.closeOnce.Do(func() {
		m.untrack()
		m.cancel()
		_, err = bounded(d, "closing the consumer of group "+m.groupID, func() (struct{}, error) {
			e := m.group.Close()
			<-m.loop
			m.client.Close()
			return struct{}{}, e
		})
	})
	return err
}

func (m *member) owned() map[tp]bool {
	out := map[tp]bool{}
	for t, ps := range m.claims {
		for _, p := range ps {
			out[tp{Topic: t, Partition: p}] = true
		}
	}
	return out
}

// poll waits up to d for records of the partitions the member owns and hands them out.
func (m *member) poll(d time.Duration, limit int) ([]*sarama.ConsumerMessage, error) {
	deadline := time.Now().Add(d)
	for {
		m.mu.Lock()
		fatal := m.fatal
		var out []*sarama.ConsumerMessage
		if len(m.buf) > 0 {
			owned := m.owned()
			keep := m.buf[:0]
			for _, msg := range m.buf {
				if !owned[tp{Topic: msg.Topic, Partition: msg.Partition}] {
					continue
				}
				if limit <= 0 || len(out) < limit {
					out = append(out, msg)
					m.next[tp{Topic: msg.Topic, Partition: msg.Partition}] = msg.Offset + 1
				} else {
					keep = append(keep, msg)
				}
			}
			m.buf = keep
		}
		m.mu.Unlock()
		if len(out) > 0 {
			return out, nil
		}
		if fatal != nil {
			return nil, fatal
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, nil
		}
		select {
		case <-m.wake:
		case <-time.After(left):
		}
	}
}

func (m *member) assignment() []driverkit.TopicPartition {
	m.mu.Lock()
	defer m.mu.Unlock()
	return driverkit.Assignment(m.owned())
}

// commit synchronously commits the position after every record handed out (of the partitions
// the member still owns) and reports what it committed. Sarama's Commit returns no error: a
// failure reaches the group's error channel, which is checked after the commit.
func (m *member) commit(d time.Duration) (map[tp]int64, error) {
	deadline := time.Now().Add(d)
	for {
		m.mu.Lock()
		sess, fatal := m.sess, m.fatal
		m.mu.Unlock()
		if fatal != nil {
			return nil, fatal
		}
		if sess != nil {
			break
		}
		if time.Now().After(deadline) {
			return nil, driverkit.Errorf("TIMEOUT", "Timeout", "commit: the member of group %s has no active generation within %s", m.groupID, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
	m.mu.Lock()
	sess := m.sess
	owned := m.owned()
	offsets := map[tp]int64{}
	for k, o := range m.next {
		if owned[k] {
			offsets[k] = o
		}
	}
	before := len(m.errs)
	m.mu.Unlock()
	if len(offsets) == 0 || sess == nil {
		return offsets, nil
	}
	for k, o := range offsets {
		sess.MarkOffset(k.Topic, k.Partition, o, "")
	}
	_, err := bounded(time.Until(deadline)+time.Second, "commit", func() (struct{}, error) { sess.Commit(); return struct{}{}, nil })
	if err != nil {
		return nil, err
	}
	time.Sleep(50 * time.Millisecond) // the commit's errors travel through a channel
	m.mu.Lock()
	var failed error
	for _, e := range m.errs[min(before, len(m.errs)):] {
		var ce *sarama.ConsumerError
		if errors.As(e, &ce) || canonical(e) != "" {
			failed = e
		}
	}
	m.mu.Unlock()
	if failed != nil {
		return nil, fmt.Errorf("commit: %w", failed)
	}
	// Sarama's Commit reports nothing itself: read the group's offsets back from its
	// coordinator, so a commit the endpoint did not store is not reported as done.
	if err := m.verifyCommitted(offsets); err != nil {
		return nil, err
	}
	driverkit.Logf("group %s: committed %v", m.groupID, offsets)
	return offsets, nil
}

func (m *member) verifyCommitted(offsets map[tp]int64) error {
	_, err := bounded(requestTimeout, "reading the committed offsets back", func() (struct{}, error) {
		coordinator, err := m.client.Coordinator(m.groupID)
		if err != nil {
			return struct{}{}, err
		}
		parts := map[string][]int32{}
		for k := range offsets {
			parts[k.Topic] = append(parts[k.Topic], k.Partition)
		}
		resp, err := coordinator.FetchOffset(sarama.NewOffsetFetchRequest(m.client.Config().Version, m.groupID, parts))
		if err != nil {
			return struct{}{}, err
		}
		for k, want := range offsets {
			b := resp.GetBlock(k.Topic, k.Partition)
			if b == nil {
				return struct{}{}, driverkit.Errorf("UNKNOWN", "DriverError", "commit: the coordinator lists no committed offset for %s-%d after committing %d", k.Topic, k.Partition, want)
			}
			if b.Err != sarama.ErrNoError {
				return struct{}{}, fmt.Errorf("commit: reading %s-%d back: %w", k.Topic, k.Partition, b.Err)
			}
			if b.Offset != want {
				return struct{}{}, driverkit.Errorf("UNKNOWN", "DriverError", "commit: committed %d for %s-%d, the coordinator answers %d", want, k.Topic, k.Partition, b.Offset)
			}
		}
		return struct{}{}, nil
	})
	return err
}

func recordOut(msg *sarama.ConsumerMessage) map[string]any {
	headers := map[string]string{}
	for _, h := range msg.Headers {
		if h != nil {
			headers[string(h.Key)] = string(h.Value)
		}
	}
	var key, value any
	if msg.Key != nil {
		key = string(msg.Key)
	}
	if msg.Value != nil {
		value = string(msg.Value)
	}
	return map[string]any{"topic": msg.Topic, "partition": msg.Partition, "offset": strconv.FormatInt(msg.Offset, 10),
		"key": key, "value": value, "headers": headers, "timestamp": strconv.FormatInt(msg.Timestamp.UnixMilli(), 10)}
}

// ---------------------------------------------------------------------------------------
// consume: one member that collects `count` records, commits them the way asked, leaves.

func consume(id int64, raw json.RawMessage) (any, error) {
	cmd, err := driverkit.Decode[struct {
		memberOpts
		Count     int     `json:"count"`
		TimeoutMs int64   `json:"timeout_ms"`
		Commit    *string `json:"commit"`
	}](raw)
	if err != nil {
		return nil, err
	}
	mode := "sync"
	if cmd.Commit != nil {
		mode = *cmd.Commit
	}
	if mode == "async" {
		return nil, driverkit.Errorf("UNSUPPORTED_SETTING", "DriverError", "Sarama has no asynchronous commit (capability commit.async is not announced)")
	}
	if mode != "sync" && mode != "auto" && mode != "none" {
		return nil, driverkit.Errorf("UNSUPPORTED_SETTING", "DriverError", "commit mode %q", mode)
	}
	t0 := time.Now()
	m, err := openMember(raw, &cmd.memberOpts, mode == "auto")
	if err != nil {
		return nil, err
	}
	defer m.close(10 * time.Second)
	deadline := t0.Add(time.Duration(cmd.TimeoutMs) * time.Millisecond)
	var got []*sarama.ConsumerMessage
	// Count counts distinct records: one delivered again (a member that lost its group re-reads
	// from the last commit) is returned, for the delivery checker, but not counted
	// (harness/clients/consume-count.ts).
	distinct := driverkit.DistinctRecords{}
	for distinct.Len() < cmd.Count {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		batch, err := m.poll(left, cmd.Count-distinct.Len())
		if err != nil {
			return nil, err
		}
		if len(batch) > 0 {
			got = append(got, batch...)
			for _, msg := range batch {
				distinct.Add(msg.Topic, msg.Partition, msg.Offset)
			}
			driverkit.Emit(map[string]any{"event": "records_consumed", "id": id, "count": len(batch)})
		}
	}
	if distinct.Len() < cmd.Count {
		m.mu.Lock()
		var last error
		if len(m.errs) > 0 {
			last = m.errs[len(m.errs)-1]
		}
		m.mu.Unlock()
		if last != nil {
			return nil, driverkit.Errorf("TIMEOUT", "Timeout", "consumed %d of %d records within %d ms; last error: %v", distinct.Len(), cmd.Count, cmd.TimeoutMs, last)
		}
		return nil, driverkit.Errorf("TIMEOUT", "Timeout", "consumed %d of %d records within %d ms", distinct.Len(), cmd.Count, cmd.TimeoutMs)
	}
	// Resume where the highest record returned ends, not after the last one read: a record
	// delivered again may come after higher ones.
	m.mu.Lock()
	for _, msg := range got {
		k := tp{Topic: msg.Topic, Partition: msg.Partition}
		if msg.Offset+1 > m.next[k] {
			m.next[k] = msg.Offset + 1
		}
	}
	m.mu.Unlock()
	switch mode {
	case "sync":
		offsets, err := m.commit(15 * time.Second)
		if err != nil {
			return nil, err
		}
		driverkit.Emit(map[string]any{"event": "offsets_committed", "id": id, "offsets": driverkit.OffsetList(offsets)})
	case "auto":
		// Marked now, committed by Sarama's auto-commit (at the latest when the member leaves).
		m.mu.Lock()
		sess := m.sess
		m.mu.Unlock()
		if sess != nil {
			for _, msg := range got {
				sess.MarkMessage(msg, "")
			}
		}
	}
	out := make([]map[string]any, len(got))
	for i, msg := range got {
		out[i] = recordOut(msg)
	}
	if err := m.close(10 * time.Second); err != nil {
		driverkit.Logf("consume: leaving group %s: %v", cmd.GroupID, err)
	}
	return map[string]any{"records": out}, nil
}

// ---------------------------------------------------------------------------------------
// Consumer sessions

var sessions = driverkit.NewHandles[*member]("sarama", "consumer session")

type handleCmd struct {
	Handle string `json:"handle"`
}

// byHandle is the object under the command's `handle`.
func byHandle[T any](raw json.RawMessage, open *driverkit.Handles[T]) (T, error) {
	cmd, err := driverkit.Decode[handleCmd](raw)
	if err != nil {
		var none T
		return none, err
	}
	return open.Get(cmd.Handle)
}

func consumerOpen(id int64, raw json.RawMessage) (any, error) {
	cmd, err := driverkit.Decode[memberOpts](raw)
	if err != nil {
		return nil, err
	}
	m, err := openMember(raw, cmd, false)
	if err != nil {
		return nil, err
	}
	return map[string]any{"handle": sessions.Add(m)}, nil
}

func consumerPoll(id int64, raw json.RawMessage) (any, error) {
	cmd, err := driverkit.Decode[struct {
		TimeoutMs int64 `json:"timeout_ms"`
	}](raw)
	if err != nil {
		return nil, err
	}
	if cmd.TimeoutMs < 0 {
		return nil, driverkit.Errorf("UNSUPPORTED_SETTING", "DriverError", "timeout_ms must not be negative")
	}
	m, err := byHandle(raw, sessions)
	if err != nil {
		return nil, err
	}
	msgs, err := m.poll(time.Duration(cmd.TimeoutMs)*time.Millisecond, 0)
	if err != nil {
		return nil, err
	}
	records := make([]map[string]any, len(msgs))
	for i, msg := range msgs {
		records[i] = recordOut(msg)
	}
	if len(records) > 0 {
		driverkit.Emit(map[string]any{"event": "records_consumed", "id": id, "count": len(records)})
	}
	return map[string]any{"records": records, "assignment": m.assignment()}, nil
}

func consumerCommit(id int64, raw json.RawMessage) (any, error) {
	m, err := byHandle(raw, sessions)
	if err != nil {
		return nil, err
	}
	offsets, err := m.commit(30 * time.Second)
	if err != nil {
		return nil, err
	}
	if len(offsets) > 0 {
		driverkit.Emit(map[string]any{"event": "offsets_committed", "id": id, "offsets": driverkit.OffsetList(offsets)})
	}
	return map[string]any{"offsets": driverkit.OffsetList(offsets)}, nil
}

func consumerClose(id int64, raw json.RawMessage) (any, error) {
	cmd, err := driverkit.Decode[handleCmd](raw)
	if err != nil {
		return nil, err
	}
	m, ok := sessions.Take(cmd.Handle)
	if !ok {
		return map[string]any{}, nil
	}
	if err := m.close(30 * time.Second); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

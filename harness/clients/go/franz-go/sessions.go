package main

// Consumer sessions and transactional producers (PROTOCOL.md): objects that live across
// commands, keyed by handle. Commands run one at a time, so only franz-go's own goroutines
// (the partition callbacks) touch a session concurrently; its mutex guards the assignment.

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"kop-conformance/harness/clients/go/driverkit"
)

type tp = driverkit.TopicPartition

type session struct {
	handle   string
	group    string
	cl       *kgo.Client
	mu       sync.Mutex
	assigned map[tp]bool
	next     offsets
	untrack  func()
	closed   bool
}

var sessions = driverkit.NewHandles[*session]("franz", "consumer session")

func (s *session) setAssigned(m map[string][]int32, add bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t, ps := range m {
		for _, p := range ps {
			if add {
				s.assigned[tp{Topic: t, Partition: p}] = true
			} else {
				delete(s.assigned, tp{Topic: t, Partition: p})
			}
		}
	}
}

func (s *session) assignment() []tp {
	s.mu.Lock()
	defer s.mu.Unlock()
	return driverkit.Assignment(s.assigned)
}

// close leaves the group (bounded) and closes the client; idempotent.
func (s *session) close(d time.Duration) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	ctx, cancel := ctxFor(d)
	defer cancel()
	s.cl.AllowRebalance()
	if err := s.cl.LeaveGroupContext(ctx); err != nil {
		driverkit.Logf("session %s: leaving the group: %v", s.handle, err)
	}
	s.cl.Close()
	s.untrack()
}

func consumerOpen(_ int64, cmd map[string]any) (any, error) {
	opts, err := groupOpts(cmd)
	if err != nil {
		return nil, err
	}
	s := &session{group: str(cmd, "group_id"), assigned: map[tp]bool{}, next: offsets{}}
	opts = append(opts,
		kgo.DisableAutoCommit(),
		// Rebalances happen inside a poll only (as in Java's consumer): between two polls the
		// member's assignment, commits and seeks are stable.
		kgo.BlockRebalanceOnPoll(),
		kgo.RebalanceTimeout(30*time.Second),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { s.setAssigned(m, true) }),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { s.setAssigned(m, false) }),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { s.setAssigned(m, false) }),
	)
	cl, err := newClient(cmd, opts...)
	if err != nil {
		return nil, err
	}
	s.cl = cl
	s.untrack = driverkit.Track(func() { s.close(4 * time.Second) })
	s.handle = sessions.Add(s)
	return map[string]any{"handle": s.handle}, nil
}

func sessionOf(cmd map[string]any, key string) (*session, error) {
	return sessions.Get(str(cmd, key))
}

func consumerPoll(id int64, cmd map[string]any) (any, error) {
	s, err := sessionOf(cmd, "handle")
	if err != nil {
		return nil, err
	}
	timeoutMs, err := requireInt(cmd, "timeout_ms")
	if err != nil {
		return nil, err
	}
	if timeoutMs < 0 {
		return nil, driverkit.Errorf("UNSUPPORTED_SETTING", "DriverError", "timeout_ms must not be negative")
	}
	s.cl.AllowRebalance()
	ctx, cancel := ctxFor(time.Duration(timeoutMs) * time.Millisecond)
	f := s.cl.PollRecords(ctx, 500)
	cancel()
	var last *driverkit.Error
	if e := pollErrors(f, &last); e != nil {
		return nil, e
	}
	if last != nil {
		driverkit.Logf("session %s poll: %s", s.handle, last.Message)
	}
	recs := []any{}
	f.EachRecord(func(r *kgo.Record) {
		s.next.note(r)
		recs = append(recs, recordOut(r))
	})
	if len(recs) > 0 {
		driverkit.Emit(map[string]any{"event": "records_consumed", "id": id, "count": len(recs)})
	}
	return map[string]any{"records": recs, "assignment": s.assignment()}, nil
}

func consumerCommit(id int64, cmd map[string]any) (any, error) {
	s, err := sessionOf(cmd, "handle")
	if err != nil {
		return nil, err
	}
	if len(s.next) > 0 {
		if err := commitSync(s.cl, s.next); err != nil {
			return nil, err
		}
		driverkit.Emit(map[string]any{"event": "offsets_committed", "id": id, "offsets": s.next.list()})
	}
	return map[string]any{"offsets": s.next.list()}, nil
}

func consumerSeek(_ int64, cmd map[string]any) (any, error) {
	s, err := sessionOf(cmd, "handle")
	if err != nil {
		return nil, err
	}
	topic := str(cmd, "topic")
	p, ok := num(cmd["partition"])
	if !ok {
		return nil, driverkit.Errorf("UNSUPPORTED_SETTING", "DriverError", "partition must be an integer")
	}
	off, ok := num(cmd["offset"])
	if !ok || off < 0 {
		return nil, driverkit.Errorf("UNSUPPORTED_SETTING", "DriverError", "offset must be >= 0, got %v", cmd["offset"])
	}
	s.mu.Lock()
	held := s.assigned[tp{Topic: topic, Partition: int32(p)}]
	s.mu.Unlock()
	if !held {
		return nil, driverkit.Errorf("UNKNOWN", "IllegalStateError", "seek: %s-%d is not assigned to this member (poll until it is)", topic, p)
	}
	s.cl.SetOffsets(map[string]map[int32]kgo.EpochOffset{topic: {int32(p): {Epoch: -1, Offset: off}}})
	return map[string]any{}, nil
}

func consumerClose(_ int64, cmd map[string]any) (any, error) {
	if s, ok := sessions.Take(str(cmd, "handle")); ok { // an unknown (or already closed) handle is not an error
		s.close(30 * time.Second)
	}
	return map[string]any{}, nil
}

var sessionHandlers = map[string]handler{
	"consumer_open":   consumerOpen,
	"consumer_poll":   consumerPoll,
	"consumer_commit": consumerCommit,
	"consumer_seek":   consumerSeek,
	"consumer_close":  consumerClose,
}

// ---- transactions ----

type txnProducer struct {
	cl      *kgo.Client
	id      string
	sent    bool // records were produced in the open transaction
	offsets bool // offsets were added to the open transaction
	untrack func()
}

var txns = driverkit.NewHandles[*txnProducer]("franz-txn", "transactional producer")

func txnOf(cmd map[string]any) (*txnProducer, error) {
	return txns.Get(str(cmd, "handle"))
}

func txnProducerOpen(_ int64, cmd map[string]any) (any, error) {
	tid := str(cmd, "transactional_id")
	cl, err := newClient(cmd,
		kgo.TransactionalID(tid),
		kgo.TransactionTimeout(60*time.Second),
		kgo.RecordPartitioner(partitioner{kgo.StickyKeyPartitioner(nil)}),
		kgo.RecordDeliveryTimeout(deliveryTimeout),
		kgo.ProduceRequestTimeout(requestTimeout),
		kgo.UnknownTopicRetries(-1),
	)
	if err != nil {
		return nil, err
	}
	ctx, cancel := ctxFor(transactionBound)
	defer cancel()
	// InitProducerId now (franz-go would otherwise do it on the first send): this is what
	// fences an older producer with the same id.
	if _, _, err := cl.ProducerID(ctx); err != nil {
		cl.Close()
		return nil, err
	}
	t := &txnProducer{cl: cl, id: tid}
	t.untrack = driverkit.Track(cl.Close)
	return map[string]any{"handle": txns.Add(t)}, nil
}

func txnBegin(_ int64, cmd map[string]any) (any, error) {
	t, err := txnOf(cmd)
	if err != nil {
		return nil, err
	}
	if err := t.cl.BeginTransaction(); err != nil {
		return nil, err
	}
	t.sent, t.offsets = false, false
	return map[string]any{}, nil
}

func txnSend(id int64, cmd map[string]any) (any, error) {
	t, err := txnOf(cmd)
	if err != nil {
		return nil, err
	}
	list, _ := cmd["records"].([]any)
	recs, err := toRecords(str(cmd, "topic"), list)
	if err != nil {
		return nil, err
	}
	ctx, cancel := ctxFor(transactionBound)
	defer cancel()
	out, err := sendAll(ctx, t.cl, id, recs, false)
	if err != nil {
		return nil, err
	}
	t.sent = true
	return map[string]any{"records": out}, nil
}

// txnSendOffsets: franz-go adds a group's offsets to a transaction only for a client that is
// itself the group member (GroupTransactSession); for a member in another client this sends
// what Java's sendOffsetsToTransaction sends: AddOffsetsToTxn to the transaction coordinator,
// then TxnOffsetCommit with the member's id and generation to the group coordinator.
func txnSendOffsets(_ int64, cmd map[string]any) (any, error) {
	t, err := txnOf(cmd)
	if err != nil {
		return nil, err
	}
	s, err := sessionOf(cmd, "consumer_handle")
	if err != nil {
		return nil, err
	}
	group := s.group
	memberID, generation := s.cl.GroupMetadata()
	ctx, cancel := ctxFor(transactionBound)
	defer cancel()
	pid, epoch, err := t.cl.ProducerID(ctx)
	if err != nil {
		return nil, err
	}
	add := kmsg.NewPtrAddOffsetsToTxnRequest()
	add.TransactionalID, add.ProducerID, add.ProducerEpoch, add.Group = t.id, pid, epoch, group
	addResp, err := add.RequestWith(ctx, t.cl)
	if err != nil {
		return nil, err
	}
	if e := kerr.ErrorForCode(addResp.ErrorCode); e != nil {
		return nil, fmt.Errorf("AddOffsetsToTxn: %w", e)
	}
	commit := kmsg.NewPtrTxnOffsetCommitRequest()
	commit.TransactionalID, commit.Group, commit.ProducerID, commit.ProducerEpoch = t.id, group, pid, epoch
	commit.Generation, commit.MemberID = generation, memberID
	byTopic := map[string]*kmsg.TxnOffsetCommitRequestTopic{}
	order := []string{}
	list, _ := cmd["offsets"].([]any)
	for _, x := range list {
		m, _ := x.(map[string]any)
		topic := str(m, "topic")
		p, _ := num(m["partition"])
		o, _ := num(m["offset"])
		rt := byTopic[topic]
		if rt == nil {
			v := kmsg.NewTxnOffsetCommitRequestTopic()
			v.Topic = topic
			rt = &v
			byTopic[topic] = rt
			order = append(order, topic)
		}
		rp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
		rp.Partition, rp.Offset, rp.LeaderEpoch = int32(p), o, -1
		rt.Partitions = append(rt.Partitions, rp)
	}
	for _, topic := range order {
		commit.Topics = append(commit.Topics, *byTopic[topic])
	}
	resp, err := commit.RequestWith(ctx, t.cl)
	if err != nil {
		return nil, err
	}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			if e := kerr.ErrorForCode(rp.ErrorCode); e != nil {
				return nil, fmt.Errorf("TxnOffsetCommit %s-%d: %w", rt.Topic, rp.Partition, e)
			}
		}
	}
	t.offsets = true
	return map[string]any{}, nil
}

func txnEnd(cmd map[string]any, commit kgo.TransactionEndTry) (any, error) {
	t, err := txnOf(cmd)
	if err != nil {
		return nil, err
	}
	ctx, cancel := ctxFor(transactionBound)
	defer cancel()
	if !commit {
		if err := t.cl.AbortBufferedRecords(ctx); err != nil {
			return nil, err
		}
	}
	offsetsOnly := t.offsets && !t.sent
	t.sent, t.offsets = false, false
	if err := t.cl.EndTransaction(ctx, commit); err != nil {
		return nil, err
	}
	if offsetsOnly {
		// franz-go ended its side without an EndTxn (no partition of its own was added): the
		// coordinator still holds the offsets we added, so end the transaction for them.
		pid, epoch, err := t.cl.ProducerID(ctx)
		if err != nil {
			return nil, err
		}
		end := kmsg.NewPtrEndTxnRequest()
		end.TransactionalID, end.ProducerID, end.ProducerEpoch, end.Commit = t.id, pid, epoch, bool(commit)
		resp, err := end.RequestWith(ctx, t.cl)
		if err != nil {
			return nil, err
		}
		if e := kerr.ErrorForCode(resp.ErrorCode); e != nil {
			return nil, fmt.Errorf("EndTxn: %w", e)
		}
	}
	return map[string]any{}, nil
}

func txnProducerClose(_ int64, cmd map[string]any) (any, error) {
	if t, ok := txns.Take(str(cmd, "handle")); ok {
		t.cl.Close()
		t.untrack()
	}
	return map[string]any{}, nil
}

var txnHandlers = map[string]handler{
	"txn_producer_open":  txnProducerOpen,
	"txn_begin":          txnBegin,
	"txn_send":           txnSend,
	"txn_send_offsets":   txnSendOffsets,
	"txn_commit":         func(_ int64, cmd map[string]any) (any, error) { return txnEnd(cmd, kgo.TryCommit) },
	"txn_abort":          func(_ int64, cmd map[string]any) (any, error) { return txnEnd(cmd, kgo.TryAbort) },
	"txn_producer_close": txnProducerClose,
}

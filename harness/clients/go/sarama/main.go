// The PROTOCOL.md driver for Sarama (github.com/IBM/sarama): one long-lived process, JSON
// commands on stdin, JSON events on stdout, redacted logs on stderr, served by the shared
// loop of ../driverkit. The operations live in ops.go (produce, consume, admin), session.go
// (consumer sessions) and txn.go (transactional producers); conn.go turns a conn into a
// sarama.Config; errors.go maps Sarama's errors to the suite's canonical codes.
package main

import (
	"log"
	"os"
	"time"

	"github.com/IBM/sarama"
	"kop-conformance/harness/clients/go/driverkit"
)

// Capabilities Sarama really has. Not announced: commit.async (Sarama commits only
// synchronously or on its auto-commit timer), consumer.seek (a ConsumerGroup claim cannot be
// repositioned), api.versions (Sarama keeps its version table private), tls.serverName (the
// wire connection carries no server name).
var capabilities = []string{
	"headers", "admin.createTopics", "admin.deleteTopics", "groups.commit", "produce.acks", "produce.idempotent",
	"compression.gzip", "compression.snappy", "compression.lz4", "compression.zstd", "timestamps", "commit.auto",
	"admin.listTopics", "admin.describeTopics", "admin.describeConfigs", "admin.groups", "admin.committedOffsets",
	"groups.session", "transactions",
}

func main() {
	// KOPC_SARAMA_DEBUG_LOG names a file that gets a copy of stderr (redacted too).
	if path := os.Getenv("KOPC_SARAMA_DEBUG_LOG"); path != "" {
		if f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600); err == nil {
			driverkit.CopyLogTo(f)
		}
	}
	sarama.Logger = log.New(driverkit.LogWriter, "[sarama] ", log.Ltime|log.Lmicroseconds)
	driverkit.Driver{
		Client:         "sarama",
		Version:        driverkit.ModuleVersion("github.com/IBM/sarama"),
		Capabilities:   capabilities,
		Handlers:       handlers,
		Errors:         saramaErrors,
		ExitCloseBound: 4 * time.Second,
	}.Serve()
}

var handlers = map[string]driverkit.Handler{
	"check_login": checkLogin, "create_topics": createTopics, "delete_topics": deleteTopics,
	"produce": produce, "consume": consume,
	"list_topics": listTopics, "describe_topics": describeTopics, "describe_topic_config": describeTopicConfig,
	"list_groups": listGroups, "describe_group": describeGroup, "committed_offsets": committedOffsets,
	"consumer_open": consumerOpen, "consumer_poll": consumerPoll, "consumer_commit": consumerCommit,
	"consumer_close":    consumerClose,
	"txn_producer_open": txnProducerOpen, "txn_begin": txnBegin, "txn_send": txnSend,
	"txn_send_offsets": txnSendOffsets, "txn_commit": txnCommit, "txn_abort": txnAbort,
	"txn_producer_close": txnProducerClose,
}

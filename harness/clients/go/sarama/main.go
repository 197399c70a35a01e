// The PROTOCOL.md driver for Sarama (github.com/IBM/sarama): one long-lived process, JSON
// commands on stdin, JSON events on stdout, redacted logs on stderr. Commands run one at a
// time, in order; every wait is bounded. The operations live in ops.go (produce, consume,
// admin), session.go (consumer sessions) and txn.go (transactional producers); errors.go maps
// Sarama's errors to the suite's canonical codes.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"os/signal"
	"regexp"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/IBM/sarama"
)

const libraryPath = "github.com/IBM/sarama"

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

// ---------------------------------------------------------------------------------------
// stdout: protocol events only

var outMu sync.Mutex
var stdout = bufio.NewWriter(os.Stdout)

func emit(ev map[string]any) {
	b, err := json.Marshal(ev)
	if err != nil {
		logf("cannot encode an event: %v", err)
		return
	}
	outMu.Lock()
	defer outMu.Unlock()
	stdout.Write(b)
	stdout.WriteByte('\n')
	stdout.Flush()
}

// ---------------------------------------------------------------------------------------
// stderr: free-form, redacted

var (
	jwtRe      = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}`)
	tokenRe    = regexp.MustCompile(`token:[^\s"',;}]+`)
	secretsMu  sync.Mutex
	secretList []string
)

func registerSecret(s string) {
	if len(s) < 6 {
		return
	}
	secretsMu.Lock()
	defer secretsMu.Unlock()
	for _, k := range secretList {
		if k == s {
			return
		}
	}
	secretList = append(secretList, s)
}

func redact(s string) string {
	secretsMu.Lock()
	known := append([]string(nil), secretList...)
	secretsMu.Unlock()
	for _, k := range known {
		s = strings.ReplaceAll(s, k, "<redacted>")
	}
	return tokenRe.ReplaceAllString(jwtRe.ReplaceAllString(s, "<redacted-jwt>"), "token:<redacted>")
}

type redactingWriter struct{}

// debugLog, when KOPC_SARAMA_DEBUG_LOG names a file, gets a copy of stderr (redacted too):
// the parent keeps only stderr's tail, Sarama's own log of a whole scenario can be longer.
var debugLog *os.File

func (redactingWriter) Write(p []byte) (int, error) {
	text := redact(string(p))
	os.Stderr.WriteString(text)
	if debugLog != nil {
		debugLog.WriteString(text)
	}
	return len(p), nil
}

func logf(format string, args ...any) {
	log.Printf(format, args...)
}

// ---------------------------------------------------------------------------------------
// Errors already translated to a canonical code

type driverError struct {
	code, message, class string
}

func (e *driverError) Error() string { return e.code + ": " + e.message }

func derr(code, class, format string, args ...any) *driverError {
	return &driverError{code: code, message: fmt.Sprintf(format, args...), class: class}
}

// ---------------------------------------------------------------------------------------
// Clients a command or session holds: closed on every exit path, each bounded.

var (
	openMu  sync.Mutex
	openSeq int
	open    = map[int]func(){}
)

func track(closer func()) int {
	openMu.Lock()
	defer openMu.Unlock()
	openSeq++
	open[openSeq] = closer
	return openSeq
}

func untrack(id int) {
	openMu.Lock()
	defer openMu.Unlock()
	delete(open, id)
}

// closeAll closes every tracked client in parallel and returns after `d` at the latest.
func closeAll(d time.Duration) {
	openMu.Lock()
	closers := make([]func(), 0, len(open))
	for _, c := range open {
		closers = append(closers, c)
	}
	open = map[int]func(){}
	openMu.Unlock()
	var wg sync.WaitGroup
	for _, c := range closers {
		wg.Add(1)
		go func(c func()) {
			defer wg.Done()
			defer func() { recover() }()
			c()
		}(c)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		logf("closing %d client(s) took longer than %s; exiting anyway", len(closers), d)
	}
}

var exitOnce sync.Once

func exit(why string) {
	exitOnce.Do(func() {
		logf("driver exiting: %s", why)
		closeAll(4 * time.Second)
		outMu.Lock()
		stdout.Flush()
		os.Exit(0)
	})
	select {} // another goroutine is exiting
}

func watchParent() {
	pid, err := strconv.Atoi(os.Getenv("KOPC_PARENT_PID"))
	if err != nil || pid <= 0 {
		return
	}
	for {
		time.Sleep(500 * time.Millisecond)
		if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
			exit(fmt.Sprintf("parent process %d is gone", pid))
		}
	}
}

// ---------------------------------------------------------------------------------------
// The command loop

type handler func(id int64, raw json.RawMessage) (any, error)

var handlers = map[string]handler{}

func libraryVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			if d.Path == libraryPath {
				if d.Replace != nil {
					return d.Replace.Version
				}
				return d.Version
			}
		}
	}
	return "unknown"
}

func main() {
	if path := os.Getenv("KOPC_SARAMA_DEBUG_LOG"); path != "" {
		if f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600); err == nil {
			debugLog = f
		}
	}
	log.SetOutput(redactingWriter{})
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	sarama.Logger = log.New(redactingWriter{}, "[sarama] ", log.Ltime|log.Lmicroseconds)

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() { s := <-sigs; exit("signal " + s.String()) }()
	go watchParent()

	registerHandlers()
	lines := make(chan []byte, 16)
	go func() {
		r := bufio.NewReaderSize(os.Stdin, 1<<20)
		for {
			line, err := r.ReadBytes('\n')
			if len(strings.TrimSpace(string(line))) > 0 {
				lines <- line
			}
			if err != nil {
				close(lines)
				return
			}
		}
	}()

	caps := append([]string(nil), capabilities...)
	sort.Strings(caps)
	emit(map[string]any{"event": "startup_complete", "client": "sarama", "version": strings.TrimPrefix(libraryVersion(), "v"),
		"capabilities": caps, "go": strings.TrimPrefix(runtime.Version(), "go")})

	for line := range lines {
		var head struct {
			ID   *int64 `json:"id"`
			Op   string `json:"op"`
			Conn *struct {
				Password string `json:"password"`
				SSL      *struct {
					TruststorePassword string `json:"truststore_password"`
				} `json:"ssl"`
			} `json:"conn"`
		}
		if err := json.Unmarshal(line, &head); err != nil || head.ID == nil {
			logf("ignoring a command line that is not a JSON command")
			continue
		}
		if head.Conn != nil {
			registerSecret(head.Conn.Password)
			if head.Conn.SSL != nil {
				registerSecret(head.Conn.SSL.TruststorePassword)
			}
		}
		id := *head.ID
		if head.Op == "shutdown" {
			closeAll(5 * time.Second)
			emit(map[string]any{"event": "result", "id": id, "ok": true, "data": map[string]any{}})
			exit("shutdown command")
		}
		h := handlers[head.Op]
		if h == nil {
			emit(map[string]any{"event": "result", "id": id, "ok": false,
				"error": map[string]any{"code": "UNSUPPORTED_SETTING", "message": fmt.Sprintf("unknown op %q", head.Op), "class": "DriverError"}})
			continue
		}
		data, err := runHandler(h, id, line)
		if err != nil {
			code, msg, class := translate(err)
			emit(map[string]any{"event": "result", "id": id, "ok": false,
				"error": map[string]any{"code": code, "message": redact(msg), "class": class}})
			continue
		}
		if data == nil {
			data = map[string]any{}
		}
		emit(map[string]any{"event": "result", "id": id, "ok": true, "data": data})
	}
	exit("stdin closed")
}

// runHandler turns a panic (a driver bug) into an UNKNOWN result with its stack on stderr.
func runHandler(h handler, id int64, line []byte) (data any, err error) {
	defer func() {
		if r := recover(); r != nil {
			logf("panic in command %d: %v\n%s", id, r, debug.Stack())
			err = derr("UNKNOWN", "panic", "%v", r)
		}
	}()
	return h(id, line)
}

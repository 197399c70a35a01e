// The driver side of harness/clients/PROTOCOL.md for the franz-go driver: the JSON-lines
// loop, the watchdog (parent gone, stdin closed, SIGTERM), redaction of secrets and the
// bookkeeping of open clients so that every exit path closes them.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

var (
	outMu sync.Mutex
	out   = bufio.NewWriter(os.Stdout)
)

// emit writes one event line on stdout (protocol events only).
func emit(ev map[string]any) {
	b, err := json.Marshal(ev)
	if err != nil {
		logf("cannot encode an event: %v", err)
		return
	}
	outMu.Lock()
	defer outMu.Unlock()
	out.Write(b)
	out.WriteByte('\n')
	out.Flush()
}

var (
	secretsMu sync.Mutex
	secrets   = map[string]bool{}
	jwtRe     = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}`)
	tokenRe   = regexp.MustCompile(`token:[^\s"',;}]+`)
)

func registerSecret(s string) {
	if len(s) >= 6 {
		secretsMu.Lock()
		secrets[s] = true
		secretsMu.Unlock()
	}
}

func redact(s string) string {
	secretsMu.Lock()
	for k := range secrets {
		s = strings.ReplaceAll(s, k, "<redacted>")
	}
	secretsMu.Unlock()
	return tokenRe.ReplaceAllString(jwtRe.ReplaceAllString(s, "<redacted-jwt>"), "token:<redacted>")
}

func logf(format string, args ...any) {
	fmt.Fprintln(os.Stderr, redact(fmt.Sprintf(format, args...)))
}

// driverError is a failure already translated to a canonical code.
type driverError struct {
	code, msg, class string
}

func (e *driverError) Error() string { return e.code + ": " + e.msg }

func derr(code, class, format string, args ...any) *driverError {
	return &driverError{code: code, msg: fmt.Sprintf(format, args...), class: class}
}

// Open clients: closed on SIGTERM / watchdog exit / shutdown as well as by their command.
var (
	openMu  sync.Mutex
	openSeq int
	opened  = map[int]func(){}
)

func track(closer func()) (untrack func()) {
	openMu.Lock()
	openSeq++
	id := openSeq
	opened[id] = closer
	openMu.Unlock()
	return func() {
		openMu.Lock()
		delete(opened, id)
		openMu.Unlock()
	}
}

// closeAll closes every open client in parallel and returns after `d` at the latest.
func closeAll(d time.Duration) {
	openMu.Lock()
	closers := make([]func(), 0, len(opened))
	for _, c := range opened {
		closers = append(closers, c)
	}
	opened = map[int]func(){}
	openMu.Unlock()
	if len(closers) == 0 {
		return
	}
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
	}
}

var exitOnce sync.Once

func exit(why string) {
	exitOnce.Do(func() {
		logf("driver exiting: %s", why)
		closeAll(3 * time.Second)
		outMu.Lock()
		out.Flush()
		os.Exit(0)
	})
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

type handler func(id int64, cmd map[string]any) (any, error)

// serve runs the protocol until shutdown, EOF, SIGTERM or the parent's death.
func serve(client, version string, capabilities []string, handlers map[string]handler, extra map[string]any) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() { s := <-sigs; exit(s.String()) }()
	go watchParent()

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

	sort.Strings(capabilities)
	startup := map[string]any{"event": "startup_complete", "client": client, "version": version, "capabilities": capabilities}
	for k, v := range extra {
		startup[k] = v
	}
	emit(startup)

	for line := range lines {
		var cmd map[string]any
		dec := json.NewDecoder(strings.NewReader(string(line)))
		dec.UseNumber()
		if err := dec.Decode(&cmd); err != nil {
			logf("ignoring a command line that is not JSON")
			continue
		}
		id, _ := num(cmd["id"])
		op, _ := cmd["op"].(string)
		if c, ok := cmd["conn"].(map[string]any); ok {
			if p, ok := c["password"].(string); ok {
				registerSecret(p)
			}
			if s, ok := c["ssl"].(map[string]any); ok {
				if p, ok := s["truststore_password"].(string); ok {
					registerSecret(p)
				}
			}
		}
		if op == "shutdown" {
			closeAll(5 * time.Second)
			emit(map[string]any{"event": "result", "id": id, "ok": true, "data": map[string]any{}})
			exit("shutdown command")
		}
		h := handlers[op]
		if h == nil {
			emit(map[string]any{"event": "result", "id": id, "ok": false,
				"error": map[string]any{"code": "UNSUPPORTED_SETTING", "message": fmt.Sprintf("unknown op %q", op), "class": "DriverError"}})
			continue
		}
		data, err := runHandler(h, id, cmd)
		if err != nil {
			e := translate(err)
			emit(map[string]any{"event": "result", "id": id, "ok": false,
				"error": map[string]any{"code": e.code, "message": redact(e.msg), "class": e.class}})
			continue
		}
		if data == nil {
			data = map[string]any{}
		}
		emit(map[string]any{"event": "result", "id": id, "ok": true, "data": data})
	}
	exit("stdin closed")
}

// runHandler turns a panic (a driver bug) into an UNKNOWN result with the trace on stderr.
func runHandler(h handler, id int64, cmd map[string]any) (data any, err error) {
	defer func() {
		if r := recover(); r != nil {
			logf("panic in %v: %v\n%s", cmd["op"], r, debug.Stack())
			err = derr("UNKNOWN", "panic", "%v", r)
		}
	}()
	return h(id, cmd)
}

// ---- small accessors for decoded JSON ----

func num(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		if err != nil {
			f, ferr := n.Float64()
			return int64(f), ferr == nil
		}
		return i, true
	case float64:
		return int64(n), true
	case string:
		i, err := strconv.ParseInt(n, 10, 64)
		return i, err == nil
	}
	return 0, false
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func strList(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		if s, ok := x.(string); ok {
			out = append(out, s)
		} else {
			out = append(out, fmt.Sprint(x))
		}
	}
	return out
}

func requireInt(m map[string]any, k string) (int64, error) {
	v, ok := num(m[k])
	if !ok {
		return 0, derr("UNSUPPORTED_SETTING", "DriverError", "%s must be an integer, got %v", k, m[k])
	}
	return v, nil
}

// Package driverkit is what every Go driver of harness/clients/PROTOCOL.md shares: the
// JSON-lines loop (one command at a time, one result per id), the watchdog (parent gone,
// stdin closed, SIGTERM), the bookkeeping of open clients that every exit path closes,
// redaction of secrets, the wire types and the library-independent half of the error
// mapping. A driver adds its library's operations and its library's errors; it has no
// dependency but the standard library, so a driver's go.sum does not change with it.
package driverkit

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Handler answers one command; raw is the whole command line (decode what the op needs).
// The returned data is the result's `data` (nil reads {}); an error is translated by the
// driver's Mapping.
type Handler func(id int64, raw json.RawMessage) (any, error)

// Driver describes one driver program; Serve runs it.
type Driver struct {
	Client       string // startup_complete's "client"
	Version      string // the library's version, without a leading v
	Capabilities []string
	Handlers     map[string]Handler
	Errors       Mapping
	// ExitCloseBound bounds closing the open clients when the driver exits on a signal, the
	// watchdog or stdin's end (the parent sends SIGKILL 5 s after SIGTERM).
	ExitCloseBound time.Duration
}

// shutdownCloseBound bounds closing the open clients on the `shutdown` command.
const shutdownCloseBound = 5 * time.Second

var (
	outMu sync.Mutex
	out   = bufio.NewWriter(os.Stdout)
)

// Emit writes one event line on stdout; stdout carries protocol events only.
func Emit(ev map[string]any) {
	b, err := json.Marshal(ev)
	if err != nil {
		Logf("cannot encode an event: %v", err)
		return
	}
	outMu.Lock()
	defer outMu.Unlock()
	out.Write(b)
	out.WriteByte('\n')
	out.Flush()
}

// Open clients: closed on SIGTERM, the watchdog, stdin's end and shutdown, as well as by the
// command or session that opened them.
var (
	openMu  sync.Mutex
	openSeq int
	opened  = map[int]func(){}
)

// Track registers closer until the returned untrack is called.
func Track(closer func()) (untrack func()) {
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

// closeAll closes every tracked client in parallel and returns after d at the latest.
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
		Logf("closing %d client(s) took longer than %s; exiting anyway", len(closers), d)
	}
}

var (
	exitOnce  sync.Once
	exitBound = 3 * time.Second
)

// exit closes the open clients (bounded) and exits 0; a second caller waits for the first.
func exit(why string) {
	exitOnce.Do(func() {
		Logf("driver exiting: %s", why)
		closeAll(exitBound)
		outMu.Lock()
		out.Flush()
		os.Exit(0)
	})
	select {}
}

// watchParent exits when the process KOPC_PARENT_PID no longer exists.
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

// readLines delivers stdin's non-blank lines and closes the channel at end of file.
func readLines() <-chan []byte {
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
	return lines
}

// header is what the loop itself reads of a command.
type header struct {
	ID   *json.Number `json:"id"`
	Op   string       `json:"op"`
	Conn *Conn        `json:"conn"`
}

func (h *header) id() (int64, bool) {
	if h.ID == nil {
		return 0, false
	}
	if i, err := h.ID.Int64(); err == nil {
		return i, true
	}
	f, err := h.ID.Float64()
	return int64(f), err == nil
}

// Serve runs the protocol until shutdown, stdin's end, SIGTERM or the parent's death; it
// never returns.
func (d Driver) Serve() {
	if d.ExitCloseBound > 0 {
		exitBound = d.ExitCloseBound
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() { s := <-sigs; exit("signal " + s.String()) }()
	go watchParent()
	lines := readLines()

	caps := append([]string(nil), d.Capabilities...)
	sort.Strings(caps)
	Emit(map[string]any{"event": "startup_complete", "client": d.Client, "version": d.Version,
		"capabilities": caps, "go": strings.TrimPrefix(runtime.Version(), "go")})

	for line := range lines {
		var h header
		if err := json.Unmarshal(line, &h); err != nil {
			Logf("ignoring a command line that is not JSON")
			continue
		}
		id, ok := h.id()
		if !ok {
			Logf("ignoring a command without an integer id")
			continue
		}
		h.Conn.registerSecrets()
		if h.Op == "shutdown" {
			closeAll(shutdownCloseBound)
			Emit(map[string]any{"event": "result", "id": id, "ok": true, "data": map[string]any{}})
			exit("shutdown command")
		}
		handler := d.Handlers[h.Op]
		if handler == nil {
			emitFailure(id, &Error{Code: "UNSUPPORTED_SETTING", Message: fmt.Sprintf("unknown op %q", h.Op), Class: "DriverError"})
			continue
		}
		data, err := run(handler, id, h.Op, line)
		if err != nil {
			emitFailure(id, d.Errors.Translate(err))
			continue
		}
		if data == nil {
			data = map[string]any{}
		}
		Emit(map[string]any{"event": "result", "id": id, "ok": true, "data": data})
	}
	exit("stdin closed")
}

func emitFailure(id int64, e *Error) {
	Emit(map[string]any{"event": "result", "id": id, "ok": false,
		"error": map[string]any{"code": e.Code, "message": Redact(e.Message), "class": e.Class}})
}

// run turns a panic (a driver bug) into an UNKNOWN result with the stack on stderr.
func run(h Handler, id int64, op string, line []byte) (data any, err error) {
	defer func() {
		if r := recover(); r != nil {
			Logf("panic in command %d (%s): %v\n%s", id, op, r, debug.Stack())
			err = Errorf("UNKNOWN", "panic", "%v", r)
		}
	}()
	return h(id, line)
}

// ModuleVersion is the version of the module at path in this binary's build information
// (its replacement's where replaced), without the leading v; "unknown" when absent.
func ModuleVersion(path string) string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			if d.Path == path {
				if d.Replace != nil {
					d = d.Replace
				}
				return strings.TrimPrefix(d.Version, "v")
			}
		}
	}
	return "unknown"
}

package driverkit

// stderr: free-form logs, redacted at the source. Secrets are the passwords that arrive in a
// command's conn (registered by the loop before the command runs) and anything shaped like a
// JWT or a `token:` password.

import (
	"io"
	"log"
	"os"
	"regexp"
	"strings"
	"sync"
)

var (
	jwtRe   = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}`)
	tokenRe = regexp.MustCompile(`token:[^\s"',;}]+`)

	secretsMu sync.Mutex
	secrets   []string
)

// RegisterSecret makes Redact hide s from now on (strings shorter than 6 are left alone).
func RegisterSecret(s string) {
	if len(s) < 6 {
		return
	}
	secretsMu.Lock()
	defer secretsMu.Unlock()
	for _, k := range secrets {
		if k == s {
			return
		}
	}
	secrets = append(secrets, s)
}

// Redact hides every registered secret, JWT and `token:` password in s.
func Redact(s string) string {
	secretsMu.Lock()
	known := append([]string(nil), secrets...)
	secretsMu.Unlock()
	for _, k := range known {
		s = strings.ReplaceAll(s, k, "<redacted>")
	}
	return tokenRe.ReplaceAllString(jwtRe.ReplaceAllString(s, "<redacted-jwt>"), "token:<redacted>")
}

var (
	copyMu  sync.Mutex
	logCopy io.Writer
)

type redactingWriter struct{}

func (redactingWriter) Write(p []byte) (int, error) {
	text := Redact(string(p))
	os.Stderr.WriteString(text)
	copyMu.Lock()
	if logCopy != nil {
		io.WriteString(logCopy, text)
	}
	copyMu.Unlock()
	return len(p), nil
}

// LogWriter is stderr behind redaction, for a library's own logger.
var LogWriter io.Writer = redactingWriter{}

// CopyLogTo also sends everything written to stderr (redacted) to w: the parent keeps only
// stderr's tail, a library's log of a whole scenario can be longer.
func CopyLogTo(w io.Writer) {
	copyMu.Lock()
	logCopy = w
	copyMu.Unlock()
}

var logger = log.New(LogWriter, "", log.Ltime|log.Lmicroseconds)

// Logf writes one timestamped, redacted line on stderr.
func Logf(format string, args ...any) {
	logger.Printf(format, args...)
}

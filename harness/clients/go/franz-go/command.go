// franz-go's handlers read a command as decoded JSON (numbers kept exact); the loop, the
// watchdog and redaction are driverkit's (../driverkit).
package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"kop-conformance/harness/clients/go/driverkit"
)

type handler func(id int64, cmd map[string]any) (any, error)

// kit adapts a handler to driverkit's, which passes the raw command line.
func (h handler) kit() driverkit.Handler {
	return func(id int64, raw json.RawMessage) (any, error) {
		var cmd map[string]any
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.UseNumber()
		if err := dec.Decode(&cmd); err != nil {
			return nil, driverkit.Errorf("UNSUPPORTED_SETTING", "DriverError", "bad command: %v", err)
		}
		return h(id, cmd)
	}
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
		return 0, driverkit.Errorf("UNSUPPORTED_SETTING", "DriverError", "%s must be an integer, got %v", k, m[k])
	}
	return v, nil
}

package edn

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/faultline/faultline/harness"
)

// HistoryFile is the name of the EDN history inside a run directory.
const HistoryFile = "history.edn"

// WriteHistory writes h in Jepsen's history.edn format, one op map a line
// in Jepsen's key order:
//
//	{:index 0, :time 123, :type :invoke, :process 0, :f :write, :value [:r1 3], :node "n1"}
//
// A client op on an independent key has the value [key value], as Jepsen's
// independent checker expects; the key is a keyword where it can be one.
// The nemesis is :process :nemesis, the harness's own observations (a DB
// process that exited by itself) :process :monitor. An op without a value has no :value
// (Clojure reads that as nil too), so ReadHistory gives back h exactly.
func WriteHistory(w io.Writer, h harness.History) error {
	bw := bufio.NewWriterSize(w, 256*1024)
	for _, op := range h {
		line, err := formatOp(op)
		if err != nil {
			return err
		}
		bw.WriteString(line)
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write history.edn: %w", err)
	}
	return nil
}

// WriteHistoryFile writes h to path; see WriteHistory.
func WriteHistoryFile(path string, h harness.History) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write history.edn: %w", err)
	}
	werr := WriteHistory(f, h)
	if err := f.Close(); err != nil && werr == nil {
		werr = fmt.Errorf("write history.edn: %w", err)
	}
	return werr
}

// formatOp renders one op as an EDN map.
func formatOp(op harness.Op) (string, error) {
	b := make([]byte, 0, 160)
	b = append(b, "{:index "...)
	b = strconv.AppendInt(b, int64(op.Index), 10)
	b = append(b, ", :time "...)
	b = strconv.AppendInt(b, int64(op.Time), 10)
	b = append(b, ", :type :"...)
	b = append(b, op.Type...)
	b = append(b, ", :process "...)
	switch {
	case op.IsClient():
		b = strconv.AppendInt(b, int64(op.Process), 10)
	case op.Process == harness.MonitorProcess:
		b = append(b, ":monitor"...)
	default:
		b = append(b, ":nemesis"...)
	}
	b = append(b, ", :f "...)
	if isKeywordName(op.F) {
		b = append(b, ':')
		b = append(b, op.F...)
	} else {
		b = append(b, Quote(op.F)...)
	}
	if len(op.Value) > 0 || (op.Key != "" && op.IsClient()) {
		value, err := valueEDN(op.Value)
		if err != nil {
			return "", fmt.Errorf("op %d: %w", op.Index, err)
		}
		b = append(b, ", :value "...)
		if op.Key != "" && op.IsClient() {
			b = append(b, '[')
			b = append(b, formatKey(op.Key)...)
			b = append(b, ' ')
			b = append(b, value...)
			b = append(b, ']')
		} else {
			b = append(b, value...)
		}
	}
	if op.Node != "" {
		b = append(b, ", :node "...)
		b = append(b, Quote(op.Node)...)
	}
	if op.Error != "" {
		b = append(b, ", :error "...)
		b = append(b, Quote(op.Error)...)
	}
	if op.Revision != 0 {
		b = append(b, ", :revision "...)
		b = strconv.AppendInt(b, op.Revision, 10)
	}
	if op.ModRevision != 0 {
		b = append(b, ", :mod-revision "...)
		b = strconv.AppendInt(b, op.ModRevision, 10)
	}
	return string(append(b, '}')), nil
}

// valueEDN renders an op's JSON value; no value at all is nil. Plain
// integers, the bulk of a register history, skip the JSON decoder.
func valueEDN(raw json.RawMessage) (string, error) {
	if len(raw) == 0 {
		return "nil", nil
	}
	if isPlainInt(raw) {
		return string(raw), nil
	}
	if old, new, ok := intPair(raw); ok && isPlainInt(old) && isPlainInt(new) {
		return "[" + string(old) + " " + string(new) + "]", nil // a cas
	}
	return FromJSON(raw)
}

func isPlainInt(raw []byte) bool {
	digits := raw
	if len(digits) > 1 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 18 || (digits[0] == '0' && len(digits) > 1) {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

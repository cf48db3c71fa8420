package edn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/faultline/faultline/harness"
)

// CASRegister is the OpCheck of Knossos's cas-register model, which the
// register workload checks: a client op is :read, :write or :cas; a write
// writes an integer; a cas has [old new] integers; an ok read returns an
// integer or nil (the register starts as nil). Nemesis ops, and the
// harness's own recovery probes (:f :probe), pass. It
// catches at import what the checker could only call unknown, or worse,
// misread: a JSON null decodes into an int as 0.
func CASRegister(op harness.Op) error {
	if !op.IsClient() || op.F == harness.ProbeF {
		return nil
	}
	switch {
	case op.F != "read" && op.F != "write" && op.F != "cas":
		return fmt.Errorf(":f :%s is not an op of the cas-register model (want :read, :write or :cas)", op.F)
	case op.F == "write" && op.Type == harness.Invoke:
		if !isJSONInt(op.Value) {
			return fmt.Errorf(":write wants an integer, got %s", describeJSON(op.Value))
		}
	case op.F == "cas" && op.Type == harness.Invoke:
		old, new, ok := intPair(op.Value)
		if !ok || !isJSONInt(old) || !isJSONInt(new) {
			return fmt.Errorf(":cas wants [old new] integers, got %s", describeJSON(op.Value))
		}
	case op.F == "read" && op.Type == harness.OK:
		if string(op.Value) != "null" && !isJSONInt(op.Value) {
			return fmt.Errorf("an ok :read returns an integer or nil, got %s", describeJSON(op.Value))
		}
	}
	return nil
}

// intPair splits a JSON array of two numbers, "[old,new]", as ToJSON
// writes it, without a JSON decoder. ok is false for anything else.
func intPair(raw json.RawMessage) (old, new json.RawMessage, ok bool) {
	inner, found := bytes.CutPrefix(bytes.TrimSpace(raw), []byte("["))
	if !found {
		return nil, nil, false
	}
	inner, found = bytes.CutSuffix(inner, []byte("]"))
	if !found {
		return nil, nil, false
	}
	old, new, ok = bytes.Cut(inner, []byte(","))
	return bytes.TrimSpace(old), bytes.TrimSpace(new), ok
}

// isJSONInt reports whether raw is an integer that fits an int64.
func isJSONInt(raw json.RawMessage) bool {
	_, err := strconv.ParseInt(string(raw), 10, 64)
	return err == nil
}

// describeJSON renders a value for an error message, as EDN.
func describeJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "no value"
	}
	if s, err := FromJSON(raw); err == nil {
		return s
	}
	return string(raw)
}

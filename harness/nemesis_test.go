package harness

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFaultEdge(t *testing.T) {
	type edge struct {
		kind          string
		opens, closes bool
	}
	for f, want := range map[string]edge{
		"kill":            {"kill", true, false},
		"start":           {"kill", false, true},
		"pause":           {"pause", true, false},
		"resume":          {"pause", false, true},
		"start-partition": {"partition", true, false},
		"stop-partition":  {"partition", false, true},
		"start-crash":     {"crash", true, false},
		"heal":            {"", false, false},
		"member-remove":   {"", false, false},
	} {
		kind, opens, closes := FaultEdge(f)
		assert.Equal(t, want, edge{kind, opens, closes}, f)
	}
}

package availability

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
)

func pair(inv, done float64) harness.Pair {
	p := harness.Pair{Invoke: harness.Op{Type: harness.Invoke, F: "write", Time: sec(inv)}}
	if done >= 0 {
		c := harness.Op{Type: harness.OK, F: "write", Time: sec(done)}
		p.Completion = &c
	}
	return p
}

func TestBusyBridgesShortPausesOnly(t *testing.T) {
	b := busyOf([]harness.Pair{pair(0, 1), pair(1.5, 2), pair(0.5, 0.7), pair(5, -1)}, sec(8))
	require.Equal(t, busy{{sec(0), sec(2)}, {sec(5), sec(8)}}, b, "a 0.5 s pause is bridged, a 3 s one is not; an unfinished op runs to the horizon")

	s, ok := b.longestWithin(sec(1), sec(6))
	require.True(t, ok)
	assert.Equal(t, span{sec(1), sec(2)}, s)
	_, ok = b.longestWithin(sec(2.5), sec(4.5))
	assert.False(t, ok, "no demand in between")
}

func TestWriteGapsAndWaiting(t *testing.T) {
	// Clients wait from 0 to 10 s; writes are accepted at 1, 2 and 7 s.
	b := busy{{0, sec(10)}}
	gaps := writeGaps(b, []time.Duration{sec(7), sec(1), sec(2), sec(12)}, 0, sec(10))
	require.Equal(t, []span{{0, sec(1)}, {sec(1), sec(2)}, {sec(2), sec(7)}, {sec(7), sec(10)}}, gaps)
	g, ok := longest(gaps)
	require.True(t, ok)
	assert.Equal(t, span{sec(2), sec(7)}, g)

	e, ok := electionGap(gaps, sec(0.5), sec(3))
	require.True(t, ok)
	assert.Equal(t, span{sec(2), sec(7)}, e, "the longest wait that began between the fault's start and the end of the grace")
	e, ok = electionGap(gaps, sec(0.5), sec(1.5))
	require.True(t, ok)
	assert.Equal(t, span{sec(1), sec(2)}, e)
	_, ok = electionGap(gaps, sec(8), sec(9))
	assert.False(t, ok)
}

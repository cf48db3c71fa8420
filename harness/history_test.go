package harness

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sampleHistory() History {
	return History{
		{Index: 0, Process: 0, Type: Invoke, F: "write", Key: "r1", Value: MustValue(3), Time: 1 * time.Millisecond, Node: "n1"},
		{Index: 1, Process: NemesisProcess, Type: Invoke, F: "start-partition", Value: MustValue(map[string]any{"layout": "one"}), Time: 2 * time.Millisecond},
		{Index: 2, Process: 0, Type: Info, F: "write", Key: "r1", Value: MustValue(3), Time: 3 * time.Millisecond, Node: "n1", Error: "context deadline exceeded"},
		{Index: 3, Process: NemesisProcess, Type: OK, F: "start-partition", Time: 4 * time.Millisecond},
		{Index: 4, Process: 5, Type: Invoke, F: "read", Key: "r1", Time: 5 * time.Millisecond, Node: "n2"},
		{Index: 5, Process: 5, Type: OK, F: "read", Key: "r1", Value: MustValue(nil), Time: 6 * time.Millisecond, Node: "n2"},
	}
}

func TestJSONLRoundTrip(t *testing.T) {
	h := sampleHistory()
	var buf bytes.Buffer
	require.NoError(t, WriteJSONL(&buf, h))
	assert.Contains(t, buf.String(), `"process":"nemesis"`)
	back, err := ReadJSONL(&buf)
	require.NoError(t, err)
	assert.Equal(t, h, back)
	require.NoError(t, back.Validate())
}

func TestReadJSONLDropsTornLastLine(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteJSONL(&buf, sampleHistory()))
	torn := buf.String()[:buf.Len()-20]
	back, err := ReadJSONL(strings.NewReader(torn))
	require.NoError(t, err)
	assert.Len(t, back, 5)
}

func TestReadJSONLRejectsGarbageInTheMiddle(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteJSONL(&buf, sampleHistory()[:2]))
	buf.WriteString("{not json\n")
	require.NoError(t, WriteJSONL(&buf, sampleHistory()[2:]))
	_, err := ReadJSONL(&buf)
	require.ErrorContains(t, err, "line 3")
}

func TestValidateRejectsMalformedHistories(t *testing.T) {
	cases := map[string]func(History) History{
		"index goes backwards": func(h History) History { h[3].Index = 1; return h },
		"time goes backwards":  func(h History) History { h[3].Time = 0; return h },
		"unknown type":         func(h History) History { h[5].Type = "done"; return h },
		"two ops in flight":    func(h History) History { h[2].Type = Invoke; return h },
		"orphan completion":    func(h History) History { return h[2:] },
	}
	for name, corrupt := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Error(t, corrupt(sampleHistory()).Validate())
		})
	}
}

func TestRecorderWritesWhatItRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	r, err := NewRecorder(path)
	require.NoError(t, err)
	for _, op := range sampleHistory() {
		_, err := r.Record(op)
		require.NoError(t, err)
	}
	require.NoError(t, r.Close())
	_, err = r.Record(Op{})
	assert.ErrorIs(t, err, ErrClosed)
	back, err := ReadJSONLFile(path)
	require.NoError(t, err)
	assert.Equal(t, r.History(), back)
	require.NoError(t, back.Validate())
	_, err = os.Stat(path)
	require.NoError(t, err)
}

func TestPairs(t *testing.T) {
	pairs := sampleHistory().Pairs()
	require.Len(t, pairs, 3)
	assert.Equal(t, Info, pairs[0].Completion.Type)
	assert.Equal(t, "start-partition", pairs[1].Invoke.F)
	assert.Equal(t, OK, pairs[2].Completion.Type)
}

func TestMergeOrdersFalseOverUnknownOverTrue(t *testing.T) {
	assert.Equal(t, ValidTrue, Merge())
	assert.Equal(t, ValidUnknown, Merge(ValidTrue, ValidUnknown))
	assert.Equal(t, ValidFalse, Merge(ValidUnknown, ValidFalse, ValidTrue))
	for _, v := range []Valid{ValidTrue, ValidFalse, ValidUnknown} {
		b, err := v.MarshalJSON()
		require.NoError(t, err)
		var back Valid
		require.NoError(t, back.UnmarshalJSON(b))
		assert.Equal(t, v, back)
	}
}

func TestSpecValidateNamesTheFlag(t *testing.T) {
	good := Spec{Name: "t", Nodes: 5, TimeLimit: time.Minute, Concurrency: 10, NemesisInterval: time.Second, Nemesis: []string{"kill"},
		OpTimeout: time.Second, CheckTimeout: time.Second, RecoverTimeout: time.Second, Store: "store"}
	require.NoError(t, good.Validate())
	cases := map[string]func(*Spec){
		"nodes":            func(s *Spec) { s.Nodes = 0 },
		"time-limit":       func(s *Spec) { s.TimeLimit = 0 },
		"concurrency":      func(s *Spec) { s.Concurrency = 0 },
		"rate":             func(s *Spec) { s.Rate = -1 },
		"nemesis-interval": func(s *Spec) { s.NemesisInterval = 0 },
		"check-timeout":    func(s *Spec) { s.CheckTimeout = -1 },
		"recover-timeout":  func(s *Spec) { s.RecoverTimeout = MaxRecover + 1 },
		"name":             func(s *Spec) { s.Name = "a\nb" },
		"store":            func(s *Spec) { s.Store = "" },
	}
	for flag, corrupt := range cases {
		s := good
		corrupt(&s)
		err := s.Validate()
		var fe *FlagError
		require.ErrorAs(t, err, &fe, flag)
		assert.Equal(t, flag, fe.Flag)
	}
	n, err := ParseConcurrency("3n", 5)
	require.NoError(t, err)
	assert.Equal(t, 15, n)
	_, err = ParseConcurrency("x", 5)
	require.ErrorContains(t, err, "--concurrency")
	_, err = ParseConcurrency("9223372036854775807n", 5)
	require.ErrorContains(t, err, "from 1 to 1000", "K times the nodes must not overflow")
	s := good
	s.Rate = math.NaN()
	require.ErrorContains(t, s.Validate(), "--rate")
}

package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness"
)

// FuzzTestFlags: no command line of faultline test panics the flag
// parser, and every refusal is a FlagError or bad input, never anything
// the CLI would report as a harness failure.
func FuzzTestFlags(f *testing.F) {
	for _, c := range []string{
		"--nodes 3 --time-limit 10",
		"--nemesis partition,kill --partition n1|n2,n3 --nodes 3",
		"--concurrency 9223372036854775807n",
		"--rate NaN --seed -1",
		"--fault-targets one,pause=leader --loss-probability 0.5",
		"--workload set --set-mode append --lock-ttl 1e12",
	} {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, line string) {
		fs := newFlagSet("test", "test")
		var tf testFlags
		tf.register(fs)
		if err := fs.Parse(strings.Fields(line)); err != nil {
			return
		}
		tf.noteTyped(fs)
		_, err := tf.spec()
		var fe *harness.FlagError
		var bad badInput
		if err != nil && !errors.As(err, &fe) && !errors.As(err, &bad) {
			t.Fatalf("%q: a refusal that is no bad input: %v", line, err)
		}
	})
}

// FuzzReplayFile: no replay file panics the reader, and every refusal
// names --replay.
func FuzzReplayFile(f *testing.F) {
	f.Add([]byte(`{"name":"x","target":"etcd","nodes":3,"workload":"register","time_limit":1000000000,"concurrency":6,"op_timeout":1000000000,"check_timeout":1000000000,"recover_timeout":1000000000,"store":"s","seed":1,"nemesis":["kill"],"nemesis_interval":1000000000,"schedule":[{"at":1,"f":"kill","value":{"targets":"one","seed":1}}]}`))
	f.Add([]byte(`{"schedule":[{"at":1,"f":"stop-crash"}]}`))
	f.Add([]byte("\x00"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		p := filepath.Join(t.TempDir(), "test.json")
		if err := os.WriteFile(p, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := replaySpec(p, map[string]string{"replay": p}, &testFlags{})
		var fe *harness.FlagError
		if err != nil && (!errors.As(err, &fe) || fe.Flag != "replay") {
			t.Fatalf("a refusal that does not name --replay: %v", err)
		}
	})
}

package harness

import (
	"encoding/json"
	"testing"
)

// FuzzReadSpec: no test.json, however broken, panics the reader; one it
// accepts strictly writes back and reads again as the same spec.
func FuzzReadSpec(f *testing.F) {
	f.Add([]byte(`{"name":"x","target":"etcd","nodes":3,"workload":"register","time_limit":1000000000}`))
	f.Add([]byte(`{"set_mode":"append","lock_ttl":2000000000,"loss_probability":0.2,"nemesis":["loss"],"kill_targets":"all","kill_count":2}`))
	f.Add([]byte(`{"schedule":[{"at":1,"f":"kill","value":{"targets":"one"}}],"fault_options":{"delay":"50ms"}}`))
	f.Add([]byte(`{"nodes":1e400}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := ReadSpec(raw, true)
		if err != nil {
			return
		}
		_ = s.Validate()
		out, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("a spec read back does not write: %v", err)
		}
		again, err := ReadSpec(out, true)
		if err != nil {
			t.Fatalf("a spec written does not read back strictly: %v\n%s", err, out)
		}
		b1, _ := json.Marshal(again)
		if string(b1) != string(out) {
			t.Fatalf("a spec does not round-trip:\n%s\n%s", out, b1)
		}
	})
}

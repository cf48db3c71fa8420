package harness

import (
	"context"
	"encoding/json"
	"time"
)

// Nemesis injects faults. Invoke performs one nemesis op (start-partition,
// kill, ...) and returns its completion, whose Value records the concrete
// effect (the groups a layout produced, the nodes killed). Heal undoes every
// fault it has caused; the runner always defers it.
type Nemesis interface {
	Invoke(ctx context.Context, c Cluster, op Op) Op
	Heal(ctx context.Context, c Cluster) error
}

// HealReporter is a Nemesis that can say what its last Heal did (the
// processes it resumed and restarted, the members it added back, the
// membership after). The runner records it as the heal op's completion
// value, so the history shows the cluster the final phase left behind.
type HealReporter interface {
	HealReport() any
}

// Step is one entry of a fault schedule: at At after the test starts, the
// nemesis performs F with Value. Schedules are data, drawn from the seed
// before the test starts and stored in test.json, so a run can be replayed.
type Step struct {
	At    time.Duration   `json:"at"`
	F     string          `json:"f"`
	Value json.RawMessage `json:"value,omitempty"`
}

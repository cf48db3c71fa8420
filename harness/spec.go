package harness

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Spec is the whole description of one test, as given on the command line
// and stored in test.json. With the same Spec (and Schedule) a test can be
// run again.
type Spec struct {
	// Name names the test; runs are stored under store/<Name>/.
	Name string `json:"name"`
	// Target is the store under test: etcd or kvnode.
	Target string `json:"target"`
	// TargetBug is a bug mode passed to the target (kvnode only).
	TargetBug string `json:"target_bug,omitempty"`
	// Nodes is the cluster size.
	Nodes int `json:"nodes"`
	// Workload is the --workload name.
	Workload string `json:"workload"`
	// SetMode is how the set workload stores its set: keys or append.
	SetMode string `json:"set_mode,omitempty"`
	// LockTTL is the session lease TTL of the lock workloads.
	LockTTL time.Duration `json:"lock_ttl,omitempty"`
	// Nemesis is the --nemesis value: none, or fault kinds.
	Nemesis []string `json:"nemesis"`
	// Partition is the partition layout.
	Partition string `json:"partition"`
	// KillTargets chooses the nodes a kill hits.
	KillTargets string `json:"kill_targets"`
	// KillCount, when > 0, kills exactly that many nodes.
	KillCount int `json:"kill_count,omitempty"`
	// FaultTargets chooses, per fault kind (kill, pause, crash, loss,
	// bandwidth, delay), the nodes a fault hits: one, minority, majority,
	// leader or all.
	FaultTargets map[string]string `json:"fault_targets,omitempty"`
	// LossProbability is the chance that a loss fault drops a packet, in
	// [0, 1].
	LossProbability float64 `json:"loss_probability,omitempty"`
	// Bandwidth is the rate a bandwidth fault limits nodes to, in tc's
	// units (e.g. 1mbit).
	Bandwidth string `json:"bandwidth,omitempty"`
	// Delay is the latency a delay fault adds to every packet (netem).
	Delay time.Duration `json:"delay,omitempty"`
	// Replay is the test.json whose Schedule this run performs again;
	// empty when Schedule was drawn from Seed.
	Replay string `json:"replay,omitempty"`
	// TimeLimit bounds the workload phase.
	TimeLimit time.Duration `json:"time_limit"`
	// Concurrency is the number of client threads.
	Concurrency int `json:"concurrency"`
	// Rate is the target total of invocations per second; 0 is unlimited.
	Rate float64 `json:"rate"`
	// NemesisInterval is the time between fault starts and stops.
	NemesisInterval time.Duration `json:"nemesis_interval"`
	// OpTimeout bounds each client op.
	OpTimeout time.Duration `json:"op_timeout"`
	// Seed drives every random choice: ops, stagger and faults.
	Seed int64 `json:"seed"`
	// Serializable makes reads serializable (local) instead of
	// linearizable.
	Serializable bool `json:"serializable"`
	// ClientMode is how clients reach the cluster: pinned (each thread to
	// one node), failover (every thread given every endpoint) or mixed
	// (alternate threads). Empty means pinned.
	ClientMode string `json:"client_mode,omitempty"`
	// AvailabilityGrace is how long after a fault is in force a minority
	// may still answer a linearizable op; zero means the availability
	// checker's default (one election timeout plus OpTimeout).
	AvailabilityGrace time.Duration `json:"availability_grace,omitempty"`
	// MajorityGapBound is the longest a majority may go without accepting
	// a write; zero means the availability checker's default.
	MajorityGapBound time.Duration `json:"majority_gap_bound,omitempty"`
	// CheckTimeout bounds the linearizability check.
	CheckTimeout time.Duration `json:"check_timeout"`
	// RecoverTimeout bounds the wait for health after the final heal.
	RecoverTimeout time.Duration `json:"recover_timeout"`
	// Store is the run store's root directory.
	Store string `json:"store"`
	// Schedule is the fault schedule drawn from Seed.
	Schedule []Step `json:"schedule"`
	// Versions records what was tested (image tags, store version).
	Versions map[string]string `json:"versions,omitempty"`
	// Nodes' addresses, filled in once the cluster exists.
	Cluster []Node `json:"cluster,omitempty"`
}

// FlagError is bad input: it names the flag and says what is allowed.
// The CLI exits with ExitBadInput on it, before anything is started.
type FlagError struct {
	Flag string
	Msg  string
}

func (e *FlagError) Error() string { return fmt.Sprintf("--%s: %s", e.Flag, e.Msg) }

// BadFlag returns a FlagError.
func BadFlag(flag, format string, args ...any) error {
	return &FlagError{Flag: flag, Msg: fmt.Sprintf(format, args...)}
}

// Validate checks the fields whose rules need no registry: sizes, times and
// rates. The CLI checks names (targets, workloads, layouts) against its
// registries.
func (s Spec) Validate() error {
	switch {
	case s.Nodes < 1:
		return BadFlag("nodes", "must be at least 1, got %d", s.Nodes)
	case s.Nodes > 9:
		return BadFlag("nodes", "must be at most 9 (each node is a container on a /24 network and the cluster gets slow past that), got %d", s.Nodes)
	case s.TimeLimit <= 0:
		return BadFlag("time-limit", "must be a positive number of seconds, got %v", s.TimeLimit.Seconds())
	case s.Concurrency < 1:
		return BadFlag("concurrency", "must be at least 1, got %d", s.Concurrency)
	case s.Rate < 0:
		return BadFlag("rate", "must be 0 (unlimited) or positive, got %v", s.Rate)
	case len(s.Nemesis) > 0 && s.NemesisInterval <= 0:
		return BadFlag("nemesis-interval", "must be a positive number of seconds, got %v", s.NemesisInterval.Seconds())
	case s.OpTimeout <= 0:
		return BadFlag("op-timeout", "must be a positive number of seconds, got %v", s.OpTimeout.Seconds())
	case !(s.LossProbability >= 0 && s.LossProbability <= 1): // NaN fails both
		return BadFlag("loss-probability", "must be a probability between 0 and 1, got %v", s.LossProbability)
	case s.KillCount < 0 || s.KillCount > s.Nodes:
		return BadFlag("kill-count", "must be between 0 and --nodes (%d), got %d", s.Nodes, s.KillCount)
	case s.Store == "":
		return BadFlag("store", "must name a directory")
	}
	return nil
}

// ParseConcurrency reads a --concurrency value: a number, or Kn meaning K
// times the node count.
func ParseConcurrency(flag string, nodes int) (int, error) {
	v, mult := flag, 1
	if rest, ok := strings.CutSuffix(v, "n"); ok {
		v, mult = rest, nodes
		if v == "" {
			v = "1"
		}
	}
	k, err := strconv.Atoi(v)
	if err != nil || k < 1 {
		return 0, BadFlag("concurrency", "want a positive number or Kn (K times --nodes, e.g. 2n), got %q", flag)
	}
	return k * mult, nil
}

package harness

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Spec is the whole description of one test, as given on the command line
// or through package faultline, and stored in test.json. With the same
// Spec (and Schedule) a test can be run again.
//
// Every field is named by the flag of `faultline test` that sets it; a
// message about a bad field names that flag.
type Spec struct {
	// Name names the test; runs are stored under store/<Name>/ (--name).
	Name string `json:"name"`
	// Target is the store under test, e.g. etcd or kvnode (--target).
	Target string `json:"target"`
	// TargetBug is a bug mode passed to the target (--target-bug).
	TargetBug string `json:"target_bug,omitempty"`
	// TargetVersion is the target's releases, comma-separated, that the
	// nodes run in turn (--target-version); empty is the target's default.
	TargetVersion string `json:"target_version,omitempty"`
	// TargetFailpoints builds the target with its failpoints
	// (--target-failpoints).
	TargetFailpoints bool `json:"target_failpoints,omitempty"`
	// TargetBinary is the host path of a build of the user's own
	// (--target-binary).
	TargetBinary string `json:"target_binary,omitempty"`
	// TargetFlags are extra flags for every node's DB process, NAME=VALUE
	// (--target-flag, repeatable).
	TargetFlags []string `json:"target_flags,omitempty"`
	// Nodes is the cluster size (--nodes).
	Nodes int `json:"nodes"`
	// Workload is the workload's name (--workload).
	Workload string `json:"workload"`
	// WorkloadOptions are the workload's own options, by flag name
	// (--set-mode, --lock-ttl, ...), as typed.
	WorkloadOptions Options `json:"workload_options,omitempty"`
	// Nemesis lists the fault kinds the schedule draws from (--nemesis).
	Nemesis []string `json:"nemesis"`
	// Partition is the partition layout (--partition).
	Partition string `json:"partition"`
	// FaultTargets chooses, per targeted fault kind, the nodes a fault
	// hits: one, minority, majority, leader or all (--fault-targets,
	// --kill-targets).
	FaultTargets map[string]string `json:"fault_targets,omitempty"`
	// FaultOptions are the fault kinds' options, by flag name
	// (--loss-probability, --bandwidth, --delay, --kill-count, ...), as
	// typed.
	FaultOptions Options `json:"fault_options,omitempty"`
	// Replay is the test.json whose Schedule this run performs again;
	// empty when Schedule was drawn from Seed (--replay).
	Replay string `json:"replay,omitempty"`
	// TimeLimit bounds the workload phase (--time-limit).
	TimeLimit time.Duration `json:"time_limit"`
	// Concurrency is the number of client threads (--concurrency).
	Concurrency int `json:"concurrency"`
	// Rate is the target total of invocations per second; 0 is unlimited
	// (--rate).
	Rate float64 `json:"rate"`
	// NemesisInterval is the time between fault starts and stops
	// (--nemesis-interval).
	NemesisInterval time.Duration `json:"nemesis_interval"`
	// OpTimeout bounds each client op (--op-timeout).
	OpTimeout time.Duration `json:"op_timeout"`
	// Seed drives every random choice: ops, stagger and faults (--seed).
	Seed int64 `json:"seed"`
	// Serializable makes reads serializable (local) instead of
	// linearizable (--serializable).
	Serializable bool `json:"serializable"`
	// ClientMode is how clients reach the cluster: pinned (each thread to
	// one node), failover (every thread given every endpoint) or mixed
	// (alternate threads). Empty means pinned (--client-mode).
	ClientMode string `json:"client_mode,omitempty"`
	// AvailabilityGrace is how long after a fault is in force a minority
	// may still answer a linearizable op; zero means the availability
	// checker's default (--availability-grace).
	AvailabilityGrace time.Duration `json:"availability_grace,omitempty"`
	// MajorityGapBound is the longest a majority may go without accepting
	// a write; zero means the availability checker's default
	// (--majority-gap-bound).
	MajorityGapBound time.Duration `json:"majority_gap_bound,omitempty"`
	// QuorumRestoreBound is the longest the cluster may take to serve
	// again once an op gives a quorum back to a cluster that had none;
	// zero means the availability checker's default
	// (--quorum-restore-bound).
	QuorumRestoreBound time.Duration `json:"quorum_restore_bound,omitempty"`
	// CheckTimeout bounds the linearizability check (--check-timeout).
	CheckTimeout time.Duration `json:"check_timeout"`
	// RecoverTimeout bounds the wait for health after the final heal
	// (--recover-timeout).
	RecoverTimeout time.Duration `json:"recover_timeout"`
	// Store is the run store's root directory (--store).
	Store string `json:"store"`
	// Started is the wall-clock time the history's clock started, so that
	// a node log's timestamps can be placed in test time.
	Started time.Time `json:"started,omitempty"`
	// Schedule is the fault schedule, drawn from Seed or replayed.
	Schedule []Step `json:"schedule"`
	// Versions records what was tested (image tags, store version, the
	// kernel's network features).
	Versions map[string]string `json:"versions,omitempty"`
	// Cluster holds the nodes' addresses, filled in once the cluster
	// exists.
	Cluster []Node `json:"cluster,omitempty"`
}

// specFields is Spec without its methods, for decoding.
type specFields Spec

// specJSON is a stored test.json: today's fields and those of earlier
// versions, which ReadSpec moves into today's.
type specJSON struct {
	specFields
	// Written before workload options had a map of their own.
	SetMode string        `json:"set_mode,omitempty"`
	LockTTL time.Duration `json:"lock_ttl,omitempty"`
	// Written before fault options had a map of their own.
	LossProbability float64       `json:"loss_probability,omitempty"`
	Bandwidth       string        `json:"bandwidth,omitempty"`
	Delay           time.Duration `json:"delay,omitempty"`
	KillTargets     string        `json:"kill_targets,omitempty"`
	KillCount       int           `json:"kill_count,omitempty"`
}

// ReadSpec decodes a test.json, including those written by earlier
// versions of faultline (set_mode, lock_ttl, loss_probability, bandwidth,
// delay, kill_targets and kill_count become options). strict refuses
// unknown fields and trailing data, as a replay must: a typo in a
// hand-edited file must not pass silently.
func ReadSpec(raw []byte, strict bool) (Spec, error) {
	var v specJSON
	d := json.NewDecoder(bytes.NewReader(raw))
	if strict {
		d.DisallowUnknownFields()
	}
	if err := d.Decode(&v); err != nil {
		return Spec{}, fmt.Errorf("does not parse as a test.json: %w", err)
	}
	if strict && d.More() {
		return Spec{}, errors.New("does not parse as a test.json: more than one JSON value")
	}
	s := Spec(v.specFields)
	setDefault := func(m *Options, name, value string) {
		if *m == nil {
			*m = Options{}
		}
		if _, ok := (*m)[name]; !ok {
			(*m)[name] = value
		}
	}
	if v.SetMode != "" {
		setDefault(&s.WorkloadOptions, "set-mode", v.SetMode)
	}
	if v.LockTTL > 0 {
		setDefault(&s.WorkloadOptions, "lock-ttl", strconv.FormatFloat(v.LockTTL.Seconds(), 'f', -1, 64))
	}
	uses := func(kind string) bool {
		for _, f := range s.Nemesis {
			if f == kind {
				return true
			}
		}
		return false
	}
	if v.LossProbability > 0 && uses("loss") {
		setDefault(&s.FaultOptions, "loss-probability", strconv.FormatFloat(v.LossProbability, 'f', -1, 64))
	}
	if v.Bandwidth != "" && uses("bandwidth") {
		setDefault(&s.FaultOptions, "bandwidth", v.Bandwidth)
	}
	if v.Delay > 0 && uses("delay") {
		setDefault(&s.FaultOptions, "delay", v.Delay.String())
	}
	if v.KillCount > 0 {
		setDefault(&s.FaultOptions, "kill-count", strconv.Itoa(v.KillCount))
	}
	if v.KillTargets != "" {
		if s.FaultTargets == nil {
			s.FaultTargets = map[string]string{}
		}
		if s.FaultTargets["kill"] == "" {
			s.FaultTargets["kill"] = v.KillTargets
		}
	}
	return s, nil
}

// UnmarshalJSON reads a test.json leniently, as ReadSpec does.
func (s *Spec) UnmarshalJSON(raw []byte) error {
	got, err := ReadSpec(raw, false)
	if err != nil {
		return err
	}
	*s = got
	return nil
}

// FlagError is bad input: it names the flag, says what is allowed and
// quotes the value it was given. The CLI exits with ExitBadInput on it,
// before anything is started.
type FlagError struct {
	// Flag is the flag's name, without dashes.
	Flag string
	// Msg says what is wrong and what is allowed.
	Msg string
	// Value is the value given, quoted, or empty when Msg says it. The
	// CLI replaces it with the text typed on the command line, so that a
	// message never shows a converted number the user did not type.
	Value string
}

func (e *FlagError) Error() string {
	// One line, of a length a person reads: a message may hold what a
	// tool said (the go command's answer, a JSON error).
	msg := Shorten(strings.Join(strings.Fields(e.Msg), " "), 600)
	if e.Value != "" {
		return fmt.Sprintf("--%s: %s, got %s", e.Flag, msg, e.Value)
	}
	return fmt.Sprintf("--%s: %s", e.Flag, msg)
}

// BadFlag returns a FlagError whose message holds everything.
func BadFlag(flag, format string, args ...any) error {
	return &FlagError{Flag: flag, Msg: fmt.Sprintf(format, args...)}
}

// BadValue returns a FlagError for value, which it quotes.
func BadValue(flag, value, format string, args ...any) error {
	return &FlagError{Flag: flag, Msg: fmt.Sprintf(format, args...), Value: Quote(value)}
}

// Ranges of the spec's numbers. Each is documented with its flag; values
// beyond them are refused, never clamped.
const (
	MaxNodes       = 9
	MaxConcurrency = 1000
	MaxRate        = 100000
	MaxTimeLimit   = 24 * time.Hour
	MaxInterval    = time.Hour
	MaxOpTimeout   = 10 * time.Minute
	MaxCheck       = 24 * time.Hour
	MaxRecover     = time.Hour
	MaxGrace       = 10 * time.Minute
	MaxGapBound    = time.Hour
	MaxNameLength  = 100
)

// seconds renders d as the number of seconds the flags take.
func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'g', -1, 64) }

// CheckSeconds checks that d, the value of a flag of seconds, is in
// (0, hi], or 0 when zeroOK.
func CheckSeconds(flag string, d, hi time.Duration, zeroOK bool) error {
	switch {
	case zeroOK && d == 0:
		return nil
	case d <= 0 || d > hi:
		lo := "more than 0"
		if zeroOK {
			lo = "0 (the default) or more than 0"
		}
		return &FlagError{Flag: flag, Msg: fmt.Sprintf("want a number of seconds, %s and at most %s", lo, seconds(hi)), Value: seconds(d)}
	}
	return nil
}

// Validate checks the fields whose rules need no registry: sizes, times,
// rates and names. Package faultline checks the names of targets,
// workloads, faults and layouts against its registries, after this.
func (s Spec) Validate() error {
	switch {
	case s.Nodes < 1 || s.Nodes > MaxNodes:
		return &FlagError{Flag: "nodes", Msg: fmt.Sprintf("want a cluster size from 1 to %d (each node is a container on a /24 network and the cluster gets slow past that)", MaxNodes), Value: strconv.Itoa(s.Nodes)}
	case s.Concurrency < 1 || s.Concurrency > MaxConcurrency:
		return &FlagError{Flag: "concurrency", Msg: fmt.Sprintf("want from 1 to %d client threads", MaxConcurrency), Value: strconv.Itoa(s.Concurrency)}
	case !(s.Rate >= 0 && s.Rate <= MaxRate): // NaN fails both
		return &FlagError{Flag: "rate", Msg: fmt.Sprintf("want invocations per second from 0 (unlimited) to %d", MaxRate), Value: strconv.FormatFloat(s.Rate, 'g', -1, 64)}
	}
	for _, c := range []struct {
		flag   string
		d, max time.Duration
		zeroOK bool
	}{
		{"time-limit", s.TimeLimit, MaxTimeLimit, false},
		{"nemesis-interval", s.NemesisInterval, MaxInterval, len(s.Nemesis) == 0},
		{"op-timeout", s.OpTimeout, MaxOpTimeout, false},
		{"check-timeout", s.CheckTimeout, MaxCheck, false},
		{"recover-timeout", s.RecoverTimeout, MaxRecover, false},
		{"availability-grace", s.AvailabilityGrace, MaxGrace, true},
		{"majority-gap-bound", s.MajorityGapBound, MaxGapBound, true},
		{"quorum-restore-bound", s.QuorumRestoreBound, MaxGapBound, true},
	} {
		if err := CheckSeconds(c.flag, c.d, c.max, c.zeroOK); err != nil {
			return err
		}
	}
	if s.Store == "" {
		return BadFlag("store", "must name a directory")
	}
	if err := CheckName(s.Name); err != nil {
		return err
	}
	return nil
}

// CheckName refuses a test name that is not a plain directory name of the
// store: the name is the run's parent directory, and latest is a link. It
// allows at most MaxNameLength characters and no control characters.
func CheckName(name string) error {
	switch {
	case name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." || name == "latest":
		return BadValue("name", name, "want a plain directory name other than latest (no / or \\)")
	case len([]rune(name)) > MaxNameLength:
		return BadValue("name", name, "want at most %d characters", MaxNameLength)
	case strings.IndexFunc(name, func(r rune) bool { return unicode.IsControl(r) || r == unicode.ReplacementChar }) >= 0:
		return BadValue("name", name, "want no control characters")
	}
	return nil
}

// ParseConcurrency reads a --concurrency value: a number, or Kn meaning K
// times the node count. The result is checked by Spec.Validate; only what
// cannot be a count at all, or would overflow, is refused here.
func ParseConcurrency(flag string, nodes int) (int, error) {
	v, mult := flag, 1
	if rest, ok := strings.CutSuffix(v, "n"); ok {
		v, mult = rest, max(nodes, 1)
		if v == "" {
			v = "1"
		}
	}
	k, err := strconv.Atoi(v)
	if err != nil || k < 1 || k > MaxConcurrency {
		return 0, BadValue("concurrency", flag, "want a number of client threads from 1 to %d, or Kn (K times --nodes, e.g. 2n)", MaxConcurrency)
	}
	return k * mult, nil
}

// ParseSeconds reads a number of seconds as the time flags take it: a
// finite decimal number. NaN, the infinities and values beyond
// math.MaxInt64 nanoseconds are refused, quoting what was typed.
func ParseSeconds(flag, text string) (time.Duration, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || strings.ContainsAny(text, "xXpP_") || math.Abs(f) > 9e9 {
		return 0, BadValue(flag, text, "want a number of seconds")
	}
	return time.Duration(f * float64(time.Second)), nil
}

// Package fault describes every kind of fault faultline injects, once: its
// name, the nemesis ops that start and stop it, its layer, whether it takes
// targets, what it does to the cluster (which is how the availability
// checker judges it), its colour in the plots, what it needs of the target
// and the kernel, and its options. The nemesis, the schedule, the flags,
// the plots, the timeline, the live progress line and every checker read
// fault kinds from All, and fault windows from a history through Windows.
//
// Adding a kind means one entry in All and its injector in package
// nemesis; TestEveryKindIsComplete fails until both exist.
package fault

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/harness"
)

// Layer groups kinds that may not be in force together: at most one
// network fault (they share the iptables chain and the root qdisc) and at
// most one process fault (a paused node must not also be killed) at once.
// Membership changes overlap nothing.
type Layer string

// The layers.
const (
	Network    Layer = "network"
	Process    Layer = "process"
	Membership Layer = "membership"
	Admin      Layer = "admin"
	Disk       Layer = "disk"
)

// Effect is what a fault does to the cluster, in the terms of the
// availability checker's model: who is up, who reaches whom, who is a
// member.
type Effect string

// The effects.
const (
	// Cut is a partition: some nodes drop others' packets (a grudge).
	Cut Effect = "cut"
	// Down stops the target nodes' DB processes from serving: killed,
	// paused or crashed.
	Down Effect = "down"
	// Removed takes a node out of the raft group.
	Removed Effect = "removed"
	// Degraded slows or drops some packets of the target nodes, which
	// stay up and connected: no side changes, so no rule applies, but a
	// window is open and the figures are reported.
	Degraded Effect = "degraded"
	// Instant does its work within its op (an admin operation): a point
	// in time with no state left behind.
	Instant Effect = "instant"
)

// Kind is one kind of fault.
type Kind struct {
	// Name is the --nemesis value, e.g. "partition".
	Name string
	// Summary says in a few words what it does, for --help and the README.
	Summary string
	// Start and Stop are the nemesis ops that begin and end it. Their
	// pair bounds a fault window. Stop is empty for an Instant kind.
	Start, Stop string
	// Layer is the group of kinds it may not overlap.
	Layer Layer
	// Targeted says it hits nodes chosen by --fault-targets (one,
	// minority, majority, leader, all).
	Targeted bool
	// Effect is what it does to the cluster's state.
	Effect Effect
	// Points says the reports draw its ops as points in time, each
	// labelled by what it did, rather than a window from Start to Stop
	// (a membership change is a lasting step, not a span).
	Points bool
	// Color is its shade in the plots, the timeline and the porcupine
	// pages, as #rrggbb; StopColor is the shade of its Stop op when
	// Points is set.
	Color, StopColor string
	// Kernel is the kernel feature it needs beyond plain iptables
	// ("statistic", "tbf", "netem"), or empty.
	Kernel string
	// Needs are the powers it needs of the target, each a Need.
	Needs []Need
	// MinNodes is the smallest cluster it can run on; 0 means any.
	MinNodes int
	// TargetChoices are the --fault-targets choices it takes, when not
	// all of Choices (a fault that damages disks takes no majority).
	TargetChoices []string
	// Options are its settings, as flags of `faultline test`.
	Options []harness.Option
}

// Need is a power a fault needs of the target under test.
type Need string

// Needs a target may lack.
const (
	// NeedRejoin: the target says where its data lives and how its peers
	// reach a node, so a wiped node can join again (targets.Rejoiner).
	NeedRejoin Need = "rejoin"
	// NeedDisk: the cluster can read and write a node's durable files
	// and says where they are (harness.Disk).
	NeedDisk Need = "disk"
	// NeedFailpoints: the target was built with failpoints it serves over
	// the network (--target-failpoints).
	NeedFailpoints Need = "failpoints"
	// The maintenance calls the admin kinds make, which a target may not
	// take (targets.MaintenanceProvider).
	NeedCompact    Need = "compact"
	NeedDefragment Need = "defragment"
	NeedMoveLeader Need = "move-leader"
	NeedSnapshot   Need = "snapshot"
	// NeedBuilds: the target holds more than one build of the store for
	// nodes to move between (--target-version A,B).
	NeedBuilds Need = "builds"
)

// Heal is the final heal's op: it ends every fault in force.
const Heal = "heal"

// ProcessExit is the op the harness records, as harness.MonitorProcess,
// when a DB process exits by itself: not killed, crashed or removed by
// the nemesis. Its value is a harness.Exit.
const ProcessExit = harness.ProcessExit

// The ops of the kinds in All. The names follow Jepsen's where Jepsen has
// one (kill/start, pause/resume); the others are start-<kind> and
// stop-<kind>.
const (
	StartPartition = "start-partition"
	StopPartition  = "stop-partition"
	Kill           = "kill"
	StartKilled    = "start"
	Pause          = "pause"
	Resume         = "resume"
	StartCrash     = "start-crash"
	StopCrash      = "stop-crash"
	StartLoss      = "start-loss"
	StopLoss       = "stop-loss"
	StartBandwidth = "start-bandwidth"
	StopBandwidth  = "stop-bandwidth"
	StartDelay     = "start-delay"
	StopDelay      = "stop-delay"
	MemberRemove   = "member-remove"
	MemberAdd      = "member-add"
	StartFailpoint = "start-failpoint"
	StopFailpoint  = "stop-failpoint"
	Compact        = "compact"
	Defrag         = "defrag"
	LeaderTransfer = "leader-transfer"
	Snapshot       = "snapshot"
	Upgrade        = "upgrade"
	StartCorrupt   = "start-corrupt"
	StopCorrupt    = "stop-corrupt"
)

// MinMembers is the smallest raft group the member fault leaves.
const MinMembers = 3

// Kernel features.
const (
	KernelStatistic = "statistic"
	KernelTBF       = "tbf"
	KernelNetem     = "netem"
)

// All lists every fault kind, in --help order.
var All = []Kind{
	{
		Name: "partition", Summary: "iptables DROP rules in each node's network namespace, in the shape of --partition",
		Start: StartPartition, Stop: StopPartition, Layer: Network, Effect: Cut,
		Color: "#f4c7c3", MinNodes: 2,
	},
	{
		Name: "kill", Summary: "SIGKILL of the DB process; the restart keeps its data directory",
		Start: Kill, Stop: StartKilled, Layer: Process, Targeted: true, Effect: Down, Color: "#c9daf8",
		Options: []harness.Option{{
			Name: "kill-count", Default: "0",
			Usage: "kill exactly this many nodes (overrides --kill-targets; 0 = use --kill-targets), at most --nodes",
			Check: harness.CheckInt(0, 9),
		}},
	},
	{
		Name: "pause", Summary: "SIGSTOP, then SIGCONT, of the DB process",
		Start: Pause, Stop: Resume, Layer: Process, Targeted: true, Effect: Down, Color: "#fff0b3",
	},
	{
		Name: "crash", Summary: "docker kill of the whole machine, then a reboot with its disk; the network faults in force are applied again before the DB starts",
		Start: StartCrash, Stop: StopCrash, Layer: Process, Targeted: true, Effect: Down, Color: "#d9c8f0",
	},
	{
		Name: "loss", Summary: "random loss of the packets to or from the target nodes (iptables statistic)",
		Start: StartLoss, Stop: StopLoss, Layer: Network, Targeted: true, Effect: Degraded,
		Color: "#c8ecd9", Kernel: KernelStatistic, MinNodes: 2,
		Options: []harness.Option{{
			Name: "loss-probability", Default: "0.2",
			Usage: "chance, in [0,1], that a loss fault drops a packet to or from a target node",
			Check: harness.CheckProbability,
		}},
	},
	{
		Name: "bandwidth", Summary: "a tbf root qdisc limits what the target nodes send",
		Start: StartBandwidth, Stop: StopBandwidth, Layer: Network, Targeted: true, Effect: Degraded,
		Color: "#c6e9ef", Kernel: KernelTBF,
		Options: []harness.Option{{
			Name: "bandwidth", Default: "1mbit",
			Usage: "rate a bandwidth fault limits what target nodes send to (tc units: kbit, mbit, gbit, or kbps... for bytes)",
			Check: checkRate,
		}},
	},
	{
		Name: "delay", Summary: "a netem root qdisc delays what the target nodes send",
		Start: StartDelay, Stop: StopDelay, Layer: Network, Targeted: true, Effect: Degraded,
		Color: "#e6e0c4", Kernel: KernelNetem,
		Options: []harness.Option{{
			Name: "delay", Default: "50ms",
			Usage: "latency a delay fault adds to what target nodes send (needs the kernel's netem)",
			Check: harness.CheckDuration(0, 10*time.Second),
		}},
	},
	{
		Name: "failpoint", Summary: "arms a failpoint of the store (etcd's gofail) on the target nodes, a panic by default; a node whose process it crashed is restarted when the fault stops",
		Start: StartFailpoint, Stop: StopFailpoint, Layer: Process, Targeted: true, Effect: Degraded,
		Color: "#f4a6a6", Needs: []Need{NeedFailpoints},
		Options: []harness.Option{{
			Name: "failpoints", Default: "crash",
			Usage: "which failpoints the failpoint fault arms: crash (every failpoint the release has, to panic), or NAME[=ACTION],... such as raftBeforeSave,defragBeforeRename=panic,raftAfterSave=sleep(100)",
			Check: CheckFailpointList,
		}, {
			Name: "failpoint-trigger", Default: TriggerCall,
			Usage: "how a node reaches a failpoint that only a maintenance call passes (defrag*, compact*): " + TriggerCall + " (the nemesis defragments, or compacts 10 revisions behind, right after arming it) or " + TriggerTraffic + " (it waits for the workload's own calls, such as the watch workload's compactions)",
			Check: harness.CheckOneOf(FailpointTriggers...),
		}},
	},
	{
		Name: "compact", Summary: "compacts the store's history, through a random node, at a recent revision",
		Start: Compact, Layer: Admin, Targeted: true, Effect: Instant, Points: true, Color: "#b7d7a8", Needs: []Need{NeedCompact},
		Options: []harness.Option{{
			Name: "compact-lag", Default: "100",
			Usage: "how many revisions behind the current one a compact fault compacts, at most (the lag is drawn from 0 up to it), 0 to 100000",
			Check: harness.CheckInt(0, 100000),
		}},
	},
	{
		Name: "defrag", Summary: "defragments the backend of the target nodes",
		Start: Defrag, Layer: Admin, Targeted: true, Effect: Instant, Points: true, Color: "#a2c4c9", Needs: []Need{NeedDefragment},
	},
	{
		Name: "leader-transfer", Summary: "moves the leadership to a random other member (MoveLeader)",
		Start: LeaderTransfer, Layer: Admin, Effect: Instant, Points: true, Color: "#d5a6bd", Needs: []Need{NeedMoveLeader}, MinNodes: 2,
	},
	{
		Name: "snapshot", Summary: "streams a snapshot of the store from one member (snapshot save)",
		Start: Snapshot, Layer: Admin, Targeted: true, Effect: Instant, Points: true, Color: "#ffe599", Needs: []Need{NeedSnapshot},
	},
	{
		Name: "upgrade", Summary: "stops the target nodes (SIGTERM), moves each to the next build of --target-version and starts it again on its data: a rolling upgrade or downgrade",
		Start: Upgrade, Layer: Process, Targeted: true, Effect: Instant, Points: true, Color: "#8e7cc3", Needs: []Need{NeedBuilds},
	},
	{
		Name: "corrupt", Summary: "kills the target nodes and damages their durable files (bitflips in a WAL or snapshot file, or the last WAL cut short by up to 1 KiB); the stop starts them, and one that refuses its damaged data is replaced by a wiped member",
		Start: StartCorrupt, Stop: StopCorrupt, Layer: Process, Targeted: true, Effect: Down, Color: "#b45f06",
		Needs: []Need{NeedDisk, NeedRejoin}, MinNodes: 3, TargetChoices: []string{"one", "minority", "leader", "follower"},
		Options: []harness.Option{{
			Name: "corrupt-modes", Default: strings.Join(CorruptModes, ","),
			Usage: "how a corrupt fault damages a node's files, drawn per node from " + strings.Join(CorruptModes, ", "),
			Check: CheckCorruptModes,
		}, {
			Name: "bitflip-probability", Default: "1e-5",
			Usage: "the chance that a bitflip flips a bit of each byte of the file it damages, above 0 and at most 0.01",
			Check: harness.CheckFloat(1e-9, 0.01),
		}},
	},
	{
		Name: "member", Summary: "MemberRemove and a wipe of one node, later MemberAdd and a start with state existing; never below 3 members",
		Start: MemberRemove, Stop: MemberAdd, Layer: Membership, Effect: Removed, Points: true,
		Color: "#f2b88c", StopColor: "#a9d49a", Needs: []Need{NeedRejoin}, MinNodes: MinMembers + 1,
	},
}

// Observed lists what the harness observes of the cluster without having
// caused it: a DB process that exited by itself. Each is a window in the
// reports and a state in the availability checker's model, from the op
// that records it to the final heal, but no nemesis injects it.
var Observed = []Kind{
	{
		Name: "exit", Summary: "a DB process exited by itself (a panic, a fatal error): a finding, not a fault",
		Start: ProcessExit, Layer: Process, Effect: Down, Color: "#e06666",
	},
	{
		Name: "fired", Summary: "a failpoint armed to panic fired and its process exited: the test's doing",
		Start: harness.FailpointFired, Layer: Process, Effect: Down, Points: true, Color: "#cc4125",
	},
}

// Names lists the names of All, in order.
func Names() []string {
	names := make([]string, len(All))
	for i, k := range All {
		names[i] = k.Name
	}
	return names
}

// Lookup finds a kind of All or Observed by name.
func Lookup(name string) (Kind, bool) {
	for _, list := range [][]Kind{All, Observed} {
		if i := slices.IndexFunc(list, func(k Kind) bool { return k.Name == name }); i >= 0 {
			return list[i], true
		}
	}
	return Kind{}, false
}

// Edge is what a nemesis op does to the windows of its kind.
type Edge int

// The edges.
const (
	// NoEdge: the op is not a fault op faultline knows.
	NoEdge Edge = iota
	// Opens begins a window (a kind's Start).
	Opens
	// Closes ends one (a kind's Stop).
	Closes
	// HealsAll ends every window in force (the final heal).
	HealsAll
)

// Of reads a nemesis op: its kind and whether it opens or closes a
// window of that kind. Heal is HealsAll with no kind. An op of no known
// kind named start-<x> or stop-<x>, as other harnesses write them
// (Jepsen's :start-pause), opens or closes a window of a kind named <x>
// that All does not describe: its Name is all it has.
func Of(f string) (Kind, Edge) {
	if f == Heal {
		return Kind{}, HealsAll
	}
	for _, k := range All {
		switch f {
		case k.Start:
			return k, Opens
		case k.Stop:
			return k, Closes
		}
	}
	for _, k := range Observed {
		if f == k.Start {
			return k, Opens
		}
	}
	if x, ok := strings.CutPrefix(f, "start-"); ok && x != "" {
		return Kind{Name: x}, Opens
	}
	if x, ok := strings.CutPrefix(f, "stop-"); ok && x != "" {
		return Kind{Name: x}, Closes
	}
	return Kind{}, NoEdge
}

// Options lists the options of every kind, in All order.
func Options() []harness.Option {
	var out []harness.Option
	for _, k := range All {
		out = append(out, k.Options...)
	}
	return out
}

// ParseList parses a --nemesis value: "none" (or empty) or a
// comma-separated list of kind names, repeats dropped.
func ParseList(s string) ([]string, error) {
	if s == "none" || s == "" {
		return nil, nil
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if _, ok := Lookup(f); !ok {
			return nil, fmt.Errorf("unknown fault %s: want none, or a comma-separated list of %s", harness.Quote(f), strings.Join(Names(), ", "))
		}
		if slices.Contains(out, f) {
			return nil, fmt.Errorf("fault %s is named twice", f)
		}
		out = append(out, f)
	}
	return out, nil
}

// How a node reaches a failpoint that only a maintenance call passes:
// the values of the failpoint-trigger option.
const (
	// TriggerCall: the nemesis makes the call right after arming it.
	TriggerCall = "call"
	// TriggerTraffic: the workload's own calls reach it.
	TriggerTraffic = "traffic"
)

// FailpointTriggers lists the failpoint-trigger choices.
var FailpointTriggers = []string{TriggerCall, TriggerTraffic}

// CheckFailpointList is the failpoints option's check: "crash", or
// NAME[=ACTION],... with names of letters and digits and actions of
// gofail's terms.
func CheckFailpointList(v string) error {
	if v == "crash" {
		return nil
	}
	_, err := ParseFailpoints(v)
	return err
}

// Failpoint is one failpoint to arm: its name and gofail's action term.
type Failpoint struct {
	Name   string `json:"name"`
	Action string `json:"action"`
}

var (
	failpointName   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)
	failpointAction = regexp.MustCompile(`^([0-9]+(\.[0-9]+)?%)?([0-9]+\*)?(off|return(\(.*\))?|sleep\([0-9]{1,6}\)|panic(\(.*\))?|print(\(.*\))?|pause|yield)$`)
)

// ParseFailpoints reads NAME[=ACTION],...; an action left out is a panic.
func ParseFailpoints(v string) ([]Failpoint, error) {
	var out []Failpoint
	for _, part := range strings.Split(v, ",") {
		name, action, has := strings.Cut(strings.TrimSpace(part), "=")
		if !has {
			action = "panic"
		}
		switch {
		case !failpointName.MatchString(name):
			return nil, fmt.Errorf("want crash, or failpoint names (letters and digits) with an optional =ACTION, such as raftBeforeSave,raftAfterSave=sleep(100)")
		case !failpointAction.MatchString(action):
			return nil, fmt.Errorf("failpoint %s: want an action as gofail takes it: panic, sleep(100), return, off, 1*panic, 50%%panic", name)
		}
		if slices.ContainsFunc(out, func(f Failpoint) bool { return f.Name == name }) {
			return nil, fmt.Errorf("failpoint %s is named twice", name)
		}
		out = append(out, Failpoint{Name: name, Action: action})
	}
	return out, nil
}

// The ways the corrupt kind damages a node's durable files, after
// Jepsen's etcd suite: bitflips in a WAL file or a raft snapshot file (a
// chance per byte), or the last WAL file cut short by up to 1 KiB of what
// was written (a torn write; Jepsen cuts the file's end, which in a
// preallocated WAL is only zeros).
const (
	BitflipWAL  = "bitflip-wal"
	BitflipSnap = "bitflip-snap"
	TruncateWAL = "truncate-wal"
)

// CorruptModes lists the corrupt kind's modes.
var CorruptModes = []string{BitflipWAL, BitflipSnap, TruncateWAL}

// ParseCorruptModes parses a corrupt-modes value: modes of CorruptModes,
// comma-separated, none twice.
func ParseCorruptModes(v string) ([]string, error) {
	return harness.ParseWords(v, CorruptModes, "corrupt mode")
}

// CheckCorruptModes is the corrupt-modes option's check.
func CheckCorruptModes(v string) error {
	_, err := ParseCorruptModes(v)
	return err
}

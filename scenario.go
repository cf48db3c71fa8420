package faultline

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/results"
)

// Scenario is a named test and the verdict it must reach: data, as etcd's
// robustness scenarios are. A scenario that reproduces a bug is named
// after it and expects the run to be invalid through the checkers a
// reader of the bug report would recognise.
type Scenario struct {
	// Name is what `faultline scenario run` takes.
	Name string
	// Summary says what it shows, in a sentence.
	Summary string
	// Spec is the test. Seed is left zero (drawn per run) unless the
	// scenario must fix its schedule.
	Spec Spec
	// Expect is the verdict a run must reach.
	Expect harness.Valid
	// Caught are the checkers that must be invalid when Expect is
	// harness.ValidFalse: the anomaly the scenario is about.
	Caught []string
	// Bug, when set, is the real bug of the store the scenario
	// reproduces. Its spec then names no release: it runs on Bug.Affected,
	// where it must be invalid through Caught, and on Bug.Fixed, where it
	// must be valid (see On).
	Bug *Bug
}

// Bug is a real bug of a store, as its public tracker reports it: the
// release that has it and the first that fixed it.
type Bug struct {
	// Issue is where it is reported, as owner/repo#number.
	Issue string
	// Title says what goes wrong, in the report's terms.
	Title string
	// Affected and Fixed are releases, as --target-version takes them.
	Affected, Fixed string
}

// URL is the issue's address.
func (b Bug) URL() string {
	repo, num, _ := strings.Cut(b.Issue, "#")
	return "https://github.com/" + repo + "/issues/" + num
}

// On returns the scenario as it runs on release: a bug scenario on its
// affected release must be invalid through Caught, on its fixed release
// valid. Any other release, or a release for a scenario of no bug, is an
// error naming the releases it takes.
func (sc Scenario) On(release string) (Scenario, error) {
	if sc.Bug == nil {
		if release == "" {
			return sc, nil
		}
		return sc, harness.BadValue("release", release, "scenario %s reproduces no bug and runs on the release its spec names", sc.Name)
	}
	out := sc
	switch release {
	case "", "affected", sc.Bug.Affected:
		out.Spec.TargetVersion, out.Expect = sc.Bug.Affected, harness.ValidFalse
	case "fixed", sc.Bug.Fixed:
		out.Spec.TargetVersion, out.Expect, out.Caught = sc.Bug.Fixed, harness.ValidTrue, nil
	default:
		return sc, harness.BadValue("release", release, "want affected (%s) or fixed (%s)", sc.Bug.Affected, sc.Bug.Fixed)
	}
	return out, nil
}

// Regressions lists the scenarios that reproduce real bugs.
func Regressions() []Scenario {
	var out []Scenario
	for _, sc := range Scenarios {
		if sc.Bug != nil {
			out = append(out, sc)
		}
	}
	return out
}

// Scenarios lists every named scenario.
var Scenarios = []Scenario{
	{
		Name:    "etcd-partition-kill",
		Summary: "the default test, shortened: 5-node etcd, register, partitions and kills; must be valid",
		Spec: Spec{Target: "etcd", Nodes: 5, Workload: "register", Nemesis: []string{"partition", "kill"},
			TimeLimit: 30 * time.Second, NemesisInterval: 8 * time.Second, Rate: 200},
		Expect: harness.ValidTrue,
	},
	{
		Name:    "etcd-serializable-stale-read",
		Summary: "etcd's serializable reads on an isolated node are stale, as documented: the linearizability checker must say so",
		Spec: Spec{Target: "etcd", Nodes: 3, Workload: "register", Nemesis: []string{"partition"}, Partition: "one",
			Serializable: true, TimeLimit: 30 * time.Second, NemesisInterval: 10 * time.Second, Rate: 200},
		Expect: harness.ValidFalse, Caught: []string{"linearizable"},
	},
	{
		Name:    "etcd-14370-single-node-durability",
		Summary: "a 1-node etcd crashed by a panic at raftBeforeSave, again and again under writes: v3.5.4 applied and acknowledged entries before its WAL held them, so the restart loses acknowledged writes and the revision goes back",
		Spec: Spec{Target: "etcd", TargetFailpoints: true, Nodes: 1, Workload: "register", Nemesis: []string{"failpoint"},
			FaultOptions: harness.Options{"failpoints": "raftBeforeSave=panic"},
			TimeLimit:    40 * time.Second, NemesisInterval: 2 * time.Second, Rate: 200},
		Expect: harness.ValidFalse, Caught: []string{"revisions"},
		Bug: &Bug{Issue: "etcd-io/etcd#14370", Title: "Durability API guarantee broken in single node cluster", Affected: "v3.5.4", Fixed: "v3.5.5"},
	},
	{
		Name:    "etcd-14685-defrag-panic",
		Summary: "3-node etcd, one member crashed by a panic inside a defragmentation (defragBeforeCopy, defragBeforeRename), again and again under writes: v3.5.5 did not save its consistent index in a defrag, so the restart applies entries twice: the member's revisions run ahead of the others' and clients see the revision go back",
		Spec: Spec{Target: "etcd", TargetFailpoints: true, Nodes: 3, Workload: "register", Nemesis: []string{"failpoint"},
			FaultOptions: harness.Options{"failpoints": "defragBeforeCopy=panic,defragBeforeRename=panic"},
			TimeLimit:    30 * time.Second, NemesisInterval: 3 * time.Second, Rate: 200},
		Expect: harness.ValidFalse, Caught: []string{"revisions"},
		Bug: &Bug{Issue: "etcd-io/etcd#14685", Title: "Revision inconsistency caused by panic during defrag", Affected: "v3.5.5", Fixed: "v3.5.6"},
	},
	{
		Name:    "etcd-15220-progress-before-events",
		Summary: "3-node etcd, watches from old revisions asking for progress while writes go on: v3.5.7 answered a progress request on a watch still catching up with the store's revision, ahead of events it had not yet delivered",
		Spec: Spec{Target: "etcd", Nodes: 3, Workload: "watch",
			WorkloadOptions: harness.Options{"watch-starts": "now,old,first"}, TimeLimit: 30 * time.Second, Rate: 200},
		Expect: harness.ValidFalse, Caught: []string{"watch"},
		Bug: &Bug{Issue: "etcd-io/etcd#15220", Title: "Watch progress notification not synced with stream", Affected: "v3.5.7", Fixed: "v3.5.8"},
	},
	{
		Name:    "etcd-18089-compaction-on-delete",
		Summary: "3-node etcd, compactions every 20 writes on a delete at least 5 revisions behind, watches resumed from the compacted revision: v3.5.15 dropped the delete event at the revision compacted at",
		Spec: Spec{Target: "etcd", Nodes: 3, Workload: "watch",
			WorkloadOptions: harness.Options{"watch-compact-every": "20", "watch-compact-keep": "5", "watch-compact-at": "delete", "watch-starts": "now,old,first"},
			TimeLimit:       30 * time.Second, Rate: 200},
		Expect: harness.ValidFalse, Caught: []string{"watch"},
		Bug: &Bug{Issue: "etcd-io/etcd#18089", Title: "Watch dropping an event when compacting on delete", Affected: "v3.5.15", Fixed: "v3.5.16"},
	},
	{
		Name:    "etcd-19179-tombstone-lost-on-restart",
		Summary: "a 1-node etcd compacting on a delete every 300 writes, in batches of one revision 1 ms apart, crashed by a panic before it records the compaction finished (compactBeforeSetFinishedCompact), again and again: v3.5.17 did not restore a key whose only revision left was the tombstone, so the compaction it resumed after the restart deleted that tombstone, and watches from the compacted revision miss the delete",
		Spec: Spec{Target: "etcd", TargetFailpoints: true, Nodes: 1, Workload: "watch", Nemesis: []string{"failpoint"},
			TargetFlags:     []string{"experimental-compaction-batch-limit=1", "experimental-compaction-sleep-interval=1ms"},
			FaultOptions:    harness.Options{"failpoints": "compactBeforeSetFinishedCompact=panic", "failpoint-trigger": "traffic"},
			WorkloadOptions: harness.Options{"watch-compact-every": "300", "watch-compact-keep": "5", "watch-compact-at": "delete", "watch-starts": "now,old,first"},
			TimeLimit:       40 * time.Second, NemesisInterval: 3 * time.Second, Concurrency: 10, Rate: 200},
		Expect: harness.ValidFalse, Caught: []string{"watch"},
		Bug: &Bug{Issue: "etcd-io/etcd#19179", Title: "Missing delete event on watch opened on same revision as compaction request", Affected: "v3.5.17", Fixed: "v3.5.18"},
	},
	{
		Name:    "etcd-20221-future-watch-bookmark",
		Summary: "3-node etcd, watches from future revisions asking for progress: v3.5.21 answered with a progress notification below the revision the watch begins at",
		Spec: Spec{Target: "etcd", Nodes: 3, Workload: "watch",
			WorkloadOptions: harness.Options{"watch-starts": "future"}, TimeLimit: 30 * time.Second, Rate: 200},
		Expect: harness.ValidFalse, Caught: []string{"watch"},
		Bug: &Bug{Issue: "etcd-io/etcd#20221", Title: "Watch on future revision returns old events or notifications", Affected: "v3.5.21", Fixed: "v3.5.22"},
	},
	{
		Name:    "kvnode-correct",
		Summary: "correct kvnode, partitioned and killed: must be valid",
		Spec: Spec{Target: "kvnode", Nodes: 3, Workload: "register", Nemesis: []string{"partition", "kill"},
			TimeLimit: 24 * time.Second, NemesisInterval: 4 * time.Second, Rate: 200},
		Expect: harness.ValidTrue,
	},
	{
		Name:    "kvnode-stale-read",
		Summary: "kvnode --bug stale-read serves linearizable reads locally; an isolated node's reads miss the majority's writes",
		Spec: Spec{Target: "kvnode", TargetBug: "stale-read", Nodes: 3, Workload: "register", Nemesis: []string{"partition"}, Partition: "one",
			TimeLimit: 30 * time.Second, NemesisInterval: 5 * time.Second, Concurrency: 12, Rate: 200},
		Expect: harness.ValidFalse, Caught: []string{"linearizable"},
	},
	{
		Name:    "kvnode-early-ack",
		Summary: "kvnode --bug early-ack acknowledges writes before they commit; an isolated leader's acknowledged writes are lost",
		Spec: Spec{Target: "kvnode", TargetBug: "early-ack", Nodes: 3, Workload: "register", Nemesis: []string{"partition"}, Partition: "leader",
			TimeLimit: 24 * time.Second, NemesisInterval: 4 * time.Second, Rate: 200},
		Expect: harness.ValidFalse, Caught: []string{"linearizable"},
	},
	{
		Name:    "kvnode-lost-restart",
		Summary: "kvnode --bug lost-restart forgets its log on restart; killing every node loses acknowledged writes",
		Spec: Spec{Target: "kvnode", TargetBug: "lost-restart", Nodes: 3, Workload: "register", Nemesis: []string{"kill"},
			FaultTargets: map[string]string{"kill": "all"}, TimeLimit: 30 * time.Second, NemesisInterval: 5 * time.Second,
			Concurrency: 12, Rate: 200},
		Expect: harness.ValidFalse, Caught: []string{"linearizable"},
	},
	{
		Name:    "kvnode-watch-skip-after-restart",
		Summary: "kvnode --bug watch-skip-after-restart drops the first event of a watch with a start revision on a restarted node: the watch checker must find the gap",
		Spec: Spec{Target: "kvnode", TargetBug: "watch-skip-after-restart", Nodes: 3, Workload: "watch", Nemesis: []string{"kill"},
			TimeLimit: 30 * time.Second, NemesisInterval: 5 * time.Second, Rate: 200},
		Expect: harness.ValidFalse, Caught: []string{"watch"},
	},
	{
		Name:    "kvnode-lease-follower-expiry",
		Summary: "kvnode --bug lease-follower-expiry lets a node cut off from the leader expire leases by its own clock: the fenced lock must see a second holder's write",
		Spec: Spec{Target: "kvnode", TargetBug: "lease-follower-expiry", Nodes: 3, Workload: "lock-etcd-set", Nemesis: []string{"partition"}, Partition: "one",
			TimeLimit: 30 * time.Second, NemesisInterval: 6 * time.Second, Rate: 200},
		Expect: harness.ValidFalse, Caught: []string{"lock"},
	},
}

// LookupScenario finds a scenario by name.
func LookupScenario(name string) (Scenario, bool) {
	i := slices.IndexFunc(Scenarios, func(sc Scenario) bool { return sc.Name == name })
	if i < 0 {
		return Scenario{}, false
	}
	return Scenarios[i], true
}

// ScenarioNames lists the names of Scenarios.
func ScenarioNames() []string {
	names := make([]string, len(Scenarios))
	for i, sc := range Scenarios {
		names[i] = sc.Name
	}
	return names
}

// Check says whether a finished run met the scenario's expectation: the
// verdict, and for an expected anomaly, the checkers that must have found
// it.
func (sc Scenario) Check(r Result) error {
	if got := r.Valid(); got != sc.Expect {
		return fmt.Errorf("scenario %s: verdict %s, want %s", sc.Name, results.Verdict(got), results.Verdict(sc.Expect))
	}
	var missed []string
	for _, name := range sc.Caught {
		if c, ok := r.Results.Checkers[name]; !ok || c.Valid != harness.ValidFalse {
			missed = append(missed, name)
		}
	}
	if len(missed) > 0 {
		return fmt.Errorf("scenario %s: invalid, but not through %s", sc.Name, strings.Join(missed, ", "))
	}
	return nil
}

package checker

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/faultline/faultline/harness"
)

// Replicas compares the members at the end of a run, as etcd's robustness
// tests do: every member's HashKV at one common revision must agree (a
// divergence is a replica that applied something the others did not, or
// lost what they kept), and every member's revision must reach the highest
// revision an acknowledged op saw (a member below it lost acknowledged
// writes). It reads the HashKVF ops the runner recorded.
type Replicas struct{}

// ReplicasDetails is what Replicas reports.
type ReplicasDetails struct {
	// Revision is the common revision the members were hashed at.
	Revision int64 `json:"revision"`
	// Hashes holds each member's answer.
	Hashes []harness.HashKV `json:"hashes"`
	// Missing names the members that gave no hash, with why.
	Missing []string `json:"missing,omitempty"`
	// MaxAcknowledged is the highest revision an acknowledged op saw.
	MaxAcknowledged int64 `json:"max_acknowledged"`
	// Diverged names the findings.
	Diverged []string `json:"diverged,omitempty"`
}

// Name is "replicas".
func (Replicas) Name() string { return "replicas" }

// Check judges the members' hashes. A history with no hash recorded, or a
// member that gave none, is unknown.
func (Replicas) Check(_ context.Context, h harness.History, _ string) harness.Result {
	d := &ReplicasDetails{Hashes: []harness.HashKV{}}
	for _, p := range h.Pairs() {
		c := p.Completion
		switch {
		case p.Invoke.IsClient():
			if c != nil && c.Type == harness.OK {
				d.MaxAcknowledged = max(d.MaxAcknowledged, c.Revision)
			}
		case p.Invoke.Process == harness.MonitorProcess && p.Invoke.F == harness.HashKVF:
			var hk harness.HashKV
			if c == nil || c.Type != harness.OK || json.Unmarshal(c.Value, &hk) != nil {
				why := "never answered"
				if c != nil && c.Error != "" {
					why = c.Error
				}
				d.Missing = append(d.Missing, p.Invoke.Node+": "+harness.Shorten(why, 160))
				continue
			}
			d.Hashes = append(d.Hashes, hk)
			d.Revision = max(d.Revision, hk.Revision)
		}
	}
	sort.Slice(d.Hashes, func(i, j int) bool { return d.Hashes[i].Node < d.Hashes[j].Node })
	byHash := map[string][]string{}
	for _, hk := range d.Hashes {
		key := fmt.Sprintf("hash %d at revision %d (compacted at %d)", hk.Hash, hk.Revision, hk.CompactRevision)
		byHash[key] = append(byHash[key], hk.Node)
		if hk.Current < d.MaxAcknowledged {
			d.Diverged = append(d.Diverged, fmt.Sprintf("%s is at revision %d, below %d, which an acknowledged op saw", hk.Node, hk.Current, d.MaxAcknowledged))
		}
	}
	if len(byHash) > 1 {
		var groups []string
		for key, nodes := range byHash {
			groups = append(groups, strings.Join(nodes, ",")+": "+key)
		}
		sort.Strings(groups)
		d.Diverged = append(d.Diverged, "the members' stores differ: "+strings.Join(groups, "; "))
	}
	summary := []string{fmt.Sprintf("replicas: %d members hashed at revision %d; the highest acknowledged revision %d", len(d.Hashes), d.Revision, d.MaxAcknowledged)}
	valid := harness.ValidTrue
	switch {
	case len(d.Diverged) > 0:
		valid = harness.ValidFalse
		for _, s := range d.Diverged {
			summary = append(summary, "  diverged: "+s)
		}
	case len(d.Hashes) == 0 || len(d.Missing) > 0:
		valid = harness.ValidUnknown
		if len(d.Hashes) == 0 && len(d.Missing) == 0 {
			summary = append(summary, "  unknown: no member was hashed")
		}
	}
	for _, m := range d.Missing {
		summary = append(summary, "  unknown: no hash from "+m)
	}
	return harness.Result{Valid: valid, Summary: summary, Details: d}
}

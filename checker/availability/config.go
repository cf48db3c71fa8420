// Package availability judges whether a cluster was available where a CP
// store must be and unavailable where it must not be. For every fault window
// of a history (a partition, a kill) it places each client on the side of
// the node it is pinned to, measures each side (ok rate, the election gap,
// ok ops on a minority, the recovery of each cut-off node after the heal),
// and checks two rules:
//
//   - the minority rule: no linearizable op invoked on a side without a
//     majority, a grace period after the fault was in force, completes ok
//     while the fault lasts;
//   - the majority rule: a side with a majority never goes longer than a
//     bound without accepting a write while its clients are waiting.
//
// The checker is pure: a history and a Config in, a verdict and figures
// out. It knows the nemesis only through the values the nemesis records:
// the groups a partition produced and the nodes a kill hit.
package availability

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/faultline/faultline/harness"
)

// DefaultWrites are the fs that change state in the register workload.
var DefaultWrites = []string{"write", "cas"}

// DefaultFailoverNode is the op.Node of a client given every endpoint; it
// matches harness.FailoverNode.
const DefaultFailoverNode = harness.FailoverNode

// MajorityGapSlack is what DefaultMajorityGapBound allows beyond the worst
// case of a healthy election, for a loaded machine.
const MajorityGapSlack = 4 * time.Second

// DefaultMajorityGapBound is the bound the CLI uses: two election timeouts
// (a follower campaigns after one to two of them, randomized) plus one op
// timeout (writes in flight to a leader that was cut off hang until they
// time out, and a client invokes nothing meanwhile) plus MajorityGapSlack.
// For etcd's 1 s election timeout and the default 2 s op timeout that is
// 8 s. Measured on this 2-core machine under a load average of 30 (etcd,
// 3, 5 and 7 nodes, halves and minority-leader, 14 windows), the
// majority's gap was 0.7 to 3.0 s, so the bound leaves more than twice the
// worst seen, while a majority that never elects still exceeds it within a
// 10 s fault.
func DefaultMajorityGapBound(electionTimeout, opTimeout time.Duration) time.Duration {
	return 2*electionTimeout + opTimeout + MajorityGapSlack
}

// DefaultOutageThreshold is the shortest span without an accepted write
// (while clients wait) that counts against the run's write availability.
// Shorter spans are ordinary latency between two writes.
const DefaultOutageThreshold = time.Second

// DefaultGrace is the grace period the CLI uses: one election timeout (a
// leader cut off from its quorum may take that long to step down) plus one
// op timeout (an op invoked just before that may still be answered).
func DefaultGrace(electionTimeout, opTimeout time.Duration) time.Duration {
	return electionTimeout + opTimeout
}

// Config parameterizes the checker. Every duration must be positive.
type Config struct {
	// Nodes names every node of the cluster (n1..nN). Majorities are
	// counted against len(Nodes), and a client whose op.Node is not one of
	// them is counted apart, as a failover client.
	Nodes []string
	// Writes are the fs that change state. Every other client f is a read.
	// Empty means DefaultWrites.
	Writes []string
	// Serializable says reads were served locally, without a quorum. Such
	// reads are legal on a minority: the minority rule exempts them, and
	// the figures count them apart as "minority ok reads (serializable)".
	Serializable bool
	// ElectionTimeout is the target's raft election timeout; it is reported
	// beside the figures it explains.
	ElectionTimeout time.Duration
	// Grace is how long after a fault is in force a minority may still
	// answer a linearizable op ok. Ops invoked later than that and answered
	// ok before the fault ends break the minority rule.
	Grace time.Duration
	// MajorityGapBound is the longest a majority side may go without
	// accepting a write while its clients are waiting; longer breaks the
	// majority rule.
	MajorityGapBound time.Duration
	// OutageThreshold is the shortest write gap, anywhere in the run, that
	// counts as an outage in the run's write availability. Zero means
	// DefaultOutageThreshold.
	OutageThreshold time.Duration
	// FailoverNode is the op.Node that marks a failover client. Empty means
	// DefaultFailoverNode.
	FailoverNode string
	// QuorumRestoreBound is the longest the cluster may take, once an op
	// gives a quorum back to a cluster that had none anywhere (a heal, a
	// restart, a resume), to answer a linearizable op again while clients
	// wait. Zero means DefaultQuorumRestoreBound(MajorityGapBound).
	QuorumRestoreBound time.Duration
	// RecoverBound is the longest a node may take after the final heal to
	// answer a linearizable op (the harness probes every node until it
	// does, for as long as this). Zero means no recovery rule.
	RecoverBound time.Duration
}

// QuorumRestoreSlack is what DefaultQuorumRestoreBound allows beyond the
// majority gap bound: the time etcd's peers take to find each other again
// after a partition heals, which TCP's retransmission backoff sets (a
// peer's next retransmission after an outage of 10 to 20 s comes 3 to 13 s
// after the heal).
const QuorumRestoreSlack = 12 * time.Second

// DefaultQuorumRestoreBound is the majority gap bound plus
// QuorumRestoreSlack: 20 s for etcd's defaults.
func DefaultQuorumRestoreBound(majorityGapBound time.Duration) time.Duration {
	return majorityGapBound + QuorumRestoreSlack
}

// validate says precisely what is wrong with c.
func (c Config) validate() error {
	switch {
	case len(c.Nodes) == 0:
		return errors.New("availability: no nodes: the checker needs the cluster's node names")
	case c.ElectionTimeout <= 0:
		return fmt.Errorf("availability: election timeout must be positive, got %v", c.ElectionTimeout)
	case c.Grace <= 0:
		return fmt.Errorf("availability: grace must be positive, got %v", c.Grace)
	case c.MajorityGapBound <= 0:
		return fmt.Errorf("availability: majority gap bound must be positive, got %v", c.MajorityGapBound)
	case c.OutageThreshold < 0:
		return fmt.Errorf("availability: outage threshold must not be negative, got %v", c.OutageThreshold)
	case c.QuorumRestoreBound < 0 || c.RecoverBound < 0:
		return fmt.Errorf("availability: quorum restore and recover bounds must not be negative, got %v and %v", c.QuorumRestoreBound, c.RecoverBound)
	}
	seen := map[string]bool{}
	for _, n := range c.Nodes {
		if n == "" || seen[n] {
			return fmt.Errorf("availability: node names must be distinct and non-empty, got %v", c.Nodes)
		}
		seen[n] = true
	}
	if seen[c.failoverNode()] {
		return fmt.Errorf("availability: failover label %q is also a node name", c.failoverNode())
	}
	return nil
}

func (c Config) withDefaults() Config {
	if len(c.Writes) == 0 {
		c.Writes = DefaultWrites
	}
	if c.OutageThreshold == 0 {
		c.OutageThreshold = DefaultOutageThreshold
	}
	if c.FailoverNode == "" {
		c.FailoverNode = DefaultFailoverNode
	}
	if c.QuorumRestoreBound == 0 {
		c.QuorumRestoreBound = DefaultQuorumRestoreBound(c.MajorityGapBound)
	}
	return c
}

func (c Config) failoverNode() string {
	if c.FailoverNode == "" {
		return DefaultFailoverNode
	}
	return c.FailoverNode
}

// isWrite reports whether f changes state.
func (c Config) isWrite(f string) bool { return slices.Contains(c.Writes, f) }

// linearizable reports whether an op of f must be refused by a side without
// a quorum: every write, the harness's probes, and reads unless they are
// serializable.
func (c Config) linearizable(f string) bool {
	return c.isWrite(f) || f == harness.ProbeF || !c.Serializable
}

// majority is the smallest number of nodes that is a quorum.
func (c Config) majority() int { return len(c.Nodes)/2 + 1 }

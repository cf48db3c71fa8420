package nemesis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/faultline/faultline/harness"
)

// Chain is the iptables chain that holds every rule of the harness inside a
// node. It is jumped to from INPUT, so healing flushes this chain only and
// leaves Docker's own rules (the nat table's embedded DNS) untouched.
const Chain = "FAULTLINE"

// network is the network state the nemesis keeps in force. Partitions
// and packet loss are rules in each node's Chain; bandwidth limits and
// delays are its root qdisc. Every change rewrites the whole state of the
// nodes it touches, so a node whose namespace was lost (a crash) gets it
// back by the same means.
type network struct {
	// grudge is the partition in force, nil when there is none.
	grudge Grudge
	// lossNodes are the nodes whose packets, to or from any node, are
	// dropped with lossProbability.
	lossNodes       []string
	lossProbability float64
	// shaping is each node's root qdisc (tc's words after "root").
	shaping map[string]string
}

// rules lists the rules of node a's chain, each as iptables arguments
// after "-A FAULTLINE". ips maps node names to addresses.
func (nw *network) rules(a string, ips map[string]string) ([]string, error) {
	var rules []string
	for _, b := range nw.grudge[a] {
		ip, ok := ips[b]
		if !ok {
			return nil, fmt.Errorf("grudge of %s names unknown node %s", a, b)
		}
		rules = append(rules, "-s "+ip+" -j DROP")
	}
	if len(nw.lossNodes) == 0 {
		return rules, nil
	}
	p := strconv.FormatFloat(nw.lossProbability, 'f', -1, 64)
	names := make([]string, 0, len(ips))
	for b := range ips {
		names = append(names, b)
	}
	slices.Sort(names)
	for _, b := range names {
		if b != a && (slices.Contains(nw.lossNodes, a) || slices.Contains(nw.lossNodes, b)) {
			rules = append(rules, "-s "+ips[b]+" -m statistic --mode random --probability "+p+" -j DROP")
		}
	}
	return rules, nil
}

// chainScript is the shell script that makes the node's chain hold
// exactly rules. It creates the chain and the jump if they are missing,
// then replaces the chain's rules.
func chainScript(rules []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "iptables -w -N %s 2>/dev/null; ", Chain)
	fmt.Fprintf(&b, "iptables -w -C INPUT -j %[1]s 2>/dev/null || iptables -w -I INPUT -j %[1]s || exit 1; ", Chain)
	fmt.Fprintf(&b, "iptables -w -F %s || exit 1", Chain)
	for _, r := range rules {
		fmt.Fprintf(&b, "; iptables -w -A %s %s || exit 1", Chain, r)
	}
	return b.String()
}

// apply installs the network state on the given nodes of c at once: the
// chain's rules and the root qdisc. Nodes in skip (crashed machines) are
// left alone; they get the state when they come back.
func (nw *network) apply(ctx context.Context, c harness.Cluster, nodes []harness.Node, skip map[string]bool) error {
	ips := map[string]string{}
	for _, n := range c.Nodes() {
		ips[n.Name] = n.IP
	}
	var live []harness.Node
	for _, n := range nodes {
		if !skip[n.Name] {
			live = append(live, n)
		}
	}
	return eachNode(live, func(n harness.Node) error {
		rules, err := nw.rules(n.Name, ips)
		if err != nil {
			return err
		}
		script := chainScript(rules) + "; " + qdiscScript(n.IP, nw.shaping[n.Name])
		if out, err := c.Exec(ctx, n, "sh", "-c", script); err != nil {
			return fmt.Errorf("network faults on %s: %w (%s)", n.Name, err, strings.TrimSpace(out))
		}
		return nil
	})
}

// eachNode runs f on every node concurrently and joins the errors.
func eachNode(nodes []harness.Node, f func(harness.Node) error) error {
	var wg sync.WaitGroup
	errs := make([]error, len(nodes))
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(n)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

package nemesis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/faultline/faultline/harness"
)

// Chain is the iptables chain that holds every rule of the harness inside a
// node. It is jumped to from INPUT, so healing flushes this chain only and
// leaves Docker's own rules (the nat table's embedded DNS) untouched.
const Chain = "FAULTLINE"

// grudgeScript is the shell script that makes n's chain drop exactly the
// packets from the given sources. It creates the chain and the jump if they
// are missing, then replaces the chain's rules.
func grudgeScript(sources []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "iptables -w -N %s 2>/dev/null; ", Chain)
	fmt.Fprintf(&b, "iptables -w -C INPUT -j %[1]s 2>/dev/null || iptables -w -I INPUT -j %[1]s || exit 1; ", Chain)
	fmt.Fprintf(&b, "iptables -w -F %s || exit 1", Chain)
	for _, ip := range sources {
		fmt.Fprintf(&b, "; iptables -w -A %s -s %s -j DROP || exit 1", Chain, ip)
	}
	return b.String()
}

// applyGrudge installs g on every node of c at once. Nodes absent from g
// are healed.
func applyGrudge(ctx context.Context, c harness.Cluster, g Grudge) error {
	ips := map[string]string{}
	for _, n := range c.Nodes() {
		ips[n.Name] = n.IP
	}
	return eachNode(c.Nodes(), func(n harness.Node) error {
		var sources []string
		for _, name := range g[n.Name] {
			ip, ok := ips[name]
			if !ok {
				return fmt.Errorf("grudge of %s names unknown node %s", n.Name, name)
			}
			sources = append(sources, ip)
		}
		if out, err := c.Exec(ctx, n, "sh", "-c", grudgeScript(sources)); err != nil {
			return fmt.Errorf("partition %s: %w (%s)", n.Name, err, strings.TrimSpace(out))
		}
		return nil
	})
}

// healNetwork empties the harness chain on every node.
func healNetwork(ctx context.Context, c harness.Cluster) error {
	return applyGrudge(ctx, c, Grudge{})
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

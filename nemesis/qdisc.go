package nemesis

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/faultline/faultline/fault"
	"github.com/faultline/faultline/harness"
)

// deviceScript sets $dev to the interface that carries ip. The nodes'
// interface is eth0 today, but nothing promises it.
func deviceScript(ip string) string {
	return fmt.Sprintf(`dev=$(ip -o -4 addr show | awk -v ip=%s '{split($4, a, "/"); if (a[1] == ip) print $2}'); [ -n "$dev" ] || { echo "no interface has address %s"; exit 1; }`, ip, ip)
}

// qdiscScript makes the root qdisc of the interface carrying ip be qdisc
// (tc's words after "root"), or removes the harness's root qdisc when
// qdisc is empty.
func qdiscScript(ip, qdisc string) string {
	if qdisc != "" {
		return deviceScript(ip) + `; tc qdisc replace dev "$dev" root ` + qdisc + " || exit 1"
	}
	return deviceScript(ip) + `; if tc qdisc show dev "$dev" root | grep -qE '^qdisc (tbf|netem) '; then tc qdisc del dev "$dev" root || exit 1; fi`
}

// tbfQdisc is the token bucket that limits a node's egress to rate bits
// per second. Its bucket holds 10 ms of traffic, and never less than ten
// full-size packets; packets that would wait more than 200 ms are
// dropped.
func tbfQdisc(rate float64) string {
	burst := max(15000, int(rate/8/100))
	return fmt.Sprintf("tbf rate %dbit burst %d latency 200ms", int64(rate), burst)
}

// netemQdisc adds d to every packet a node sends.
func netemQdisc(d time.Duration) string {
	return fmt.Sprintf("netem delay %dus", d.Microseconds())
}

// Kernel is what the kernel under the nodes offers the network faults.
// Containers share their host's kernel, and a kernel built without a
// module has no such feature in any container, so one node's answer is
// every node's.
type Kernel struct {
	// Statistic is iptables' statistic match, which loss needs.
	Statistic bool `json:"statistic"`
	// TBF is tc's token bucket qdisc, which bandwidth needs.
	TBF bool `json:"tbf"`
	// Netem is tc's network emulator qdisc, which delay needs.
	Netem bool `json:"netem"`
	// Why holds, for each missing feature, what iptables or tc said.
	Why map[string]string `json:"why,omitempty"`
}

// probeScript tries each feature once, undoing it at once, and prints one
// line per feature: "<name> ok" or "<name> missing: <error>".
func probeScript(ip string) string {
	return deviceScript(ip) + `
try_qdisc() { if out=$(tc qdisc replace dev "$dev" root $2 2>&1); then echo "$1 ok"; tc qdisc del dev "$dev" root; else echo "$1 missing: $out"; fi; }
try_qdisc netem "netem delay 1ms"
try_qdisc tbf "tbf rate 1gbit burst 1000000 latency 10ms"
iptables -w -N FAULTLINE-PROBE 2>/dev/null
if out=$(iptables -w -A FAULTLINE-PROBE -m statistic --mode random --probability 0.5 -j RETURN 2>&1); then echo "statistic ok"; else echo "statistic missing: $out"; fi
iptables -w -F FAULTLINE-PROBE; iptables -w -X FAULTLINE-PROBE; true`
}

// Probe asks node n which network features the kernel offers. It changes
// nothing that outlives it.
func Probe(ctx context.Context, c harness.Cluster, n harness.Node) (Kernel, error) {
	out, err := c.Exec(ctx, n, "sh", "-c", probeScript(n.IP))
	if err != nil {
		return Kernel{}, fmt.Errorf("probe the kernel on %s: %w (%s)", n.Name, err, strings.TrimSpace(out))
	}
	return parseProbe(out)
}

func parseProbe(out string) (Kernel, error) {
	k := Kernel{Why: map[string]string{}}
	found := map[string]*bool{"statistic": &k.Statistic, "tbf": &k.TBF, "netem": &k.Netem}
	seen := 0
	for _, line := range strings.Split(out, "\n") {
		name, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
		p, ok := found[name]
		if !ok {
			continue
		}
		seen++
		if rest == "ok" {
			*p = true
		} else {
			k.Why[name] = strings.TrimSpace(strings.TrimPrefix(rest, "missing:"))
		}
	}
	if seen != len(found) {
		return k, fmt.Errorf("probe the kernel: unexpected output %q", out)
	}
	return k, nil
}

// String renders what the kernel offers for a log line.
func (k Kernel) String() string {
	show := func(label, feature string, ok bool) string {
		if ok {
			return label + " yes"
		}
		return fmt.Sprintf("%s no (%s)", label, k.Why[feature])
	}
	return strings.Join([]string{
		show("iptables statistic", "statistic", k.Statistic),
		show("tc tbf", "tbf", k.TBF),
		show("tc netem", "netem", k.Netem),
	}, ", ")
}

// Check reports the first of faults that the kernel cannot inject, with
// what the kernel said and what it offers instead. What each kind needs is
// its fault.Kind.Kernel.
func (k Kernel) Check(faults []string) error {
	has := map[string]bool{fault.KernelStatistic: k.Statistic, fault.KernelTBF: k.TBF, fault.KernelNetem: k.Netem}
	feature := map[string]string{fault.KernelStatistic: "iptables' statistic match", fault.KernelTBF: "tc's tbf qdisc", fault.KernelNetem: "tc's netem qdisc"}
	var needy, offers []string
	for _, kind := range fault.All {
		if kind.Kernel == "" {
			continue
		}
		needy = append(needy, kind.Name)
		if has[kind.Kernel] {
			offers = append(offers, kind.Name)
		}
	}
	offered := "none of " + strings.Join(needy, ", ")
	if len(offers) > 0 {
		offered = strings.Join(offers, " and ")
	}
	for _, name := range faults {
		kind, _ := fault.Lookup(name)
		if kind.Kernel != "" && !has[kind.Kernel] {
			return fmt.Errorf("fault %s needs %s, which the kernel under the nodes does not have (it said: %s); of the network faults that need more than plain iptables this kernel offers %s", name, feature[kind.Kernel], k.Why[kind.Kernel], offered)
		}
	}
	return nil
}

package docker

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/netip"
	"strings"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
)

// subnetPool is where run networks take their /24s from. 10.240.0.0/16 is
// far from Docker's default pools (172.17.0.0/16 and up, 192.168.0.0/16)
// and from the usual home and cloud ranges.
var subnetPool = netip.MustParsePrefix("10.240.0.0/16")

// maxNodes is how many nodes fit in a /24 beside the gateway (.1) and
// the broadcast address: node i gets .(i+1).
const maxNodes = 253

// candidateSubnets lists the /24s of subnetPool that overlap none of used,
// starting at the one seed picks and wrapping around, so that concurrent
// runs try different subnets first and rarely race for one.
func candidateSubnets(used []netip.Prefix, seed string) []netip.Prefix {
	h := fnv.New32a()
	h.Write([]byte(seed))
	const count = 256
	first := int(h.Sum32() % count)
	base := subnetPool.Addr().As4()
	var out []netip.Prefix
	for i := range count {
		third := byte((first + i) % count)
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{base[0], base[1], third, 0}), 24)
		if !overlapsAny(p, used) {
			out = append(out, p)
		}
	}
	return out
}

func overlapsAny(p netip.Prefix, used []netip.Prefix) bool {
	for _, u := range used {
		if p.Overlaps(u) {
			return true
		}
	}
	return false
}

// hostAddr returns the address .i of a /24.
func hostAddr(subnet netip.Prefix, i int) netip.Addr {
	a := subnet.Masked().Addr().As4()
	a[3] = byte(i)
	return netip.AddrFrom4(a)
}

// usedSubnets lists the IPv4 subnets of the engine's networks.
func usedSubnets(ctx context.Context, cli client.APIClient) ([]netip.Prefix, error) {
	nets, err := cli.NetworkList(ctx, network.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	var used []netip.Prefix
	for _, n := range nets {
		for _, c := range n.IPAM.Config {
			if p, err := netip.ParsePrefix(c.Subnet); err == nil && p.Addr().Is4() {
				used = append(used, p)
			}
		}
	}
	return used, nil
}

// createNetwork creates the run's network: a bridge marked internal, so
// it has no route out of the host, on the first free candidate subnet. It
// retries on the next subnet when the engine reports an overlap (another
// run took it in the meantime).
func createNetwork(ctx context.Context, cli client.APIClient, name string, labels map[string]string) (string, netip.Prefix, error) {
	used, err := usedSubnets(ctx, cli)
	if err != nil {
		return "", netip.Prefix{}, fmt.Errorf("create network %s: %w", name, err)
	}
	const maxTries = 16
	for i, subnet := range candidateSubnets(used, name) {
		if i == maxTries {
			break
		}
		resp, err := cli.NetworkCreate(ctx, name, network.CreateOptions{
			Driver:   "bridge",
			Internal: true,
			IPAM: &network.IPAM{
				Driver: "default",
				Config: []network.IPAMConfig{{
					Subnet:  subnet.String(),
					Gateway: hostAddr(subnet, 1).String(),
				}},
			},
			Labels: labels,
		})
		if err == nil {
			return resp.ID, subnet, nil
		}
		if !strings.Contains(err.Error(), "overlap") {
			return "", netip.Prefix{}, fmt.Errorf("create network %s on %s: %w", name, subnet, err)
		}
	}
	return "", netip.Prefix{}, fmt.Errorf("create network %s: no free /24 in %s after %d tries", name, subnetPool, maxTries)
}

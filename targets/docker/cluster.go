package docker

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/targets"
)

// Connect opens a client of the Docker engine the environment names
// (DOCKER_HOST, or the local socket), negotiating the API version (the
// engine may be older than the SDK: 20.10 speaks API 1.41), and pings it
// so that an unreachable engine is reported once, plainly, before anything
// else is attempted. Close the client when done.
func Connect(ctx context.Context) (*client.Client, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx); err != nil {
		cli.Close()
		return nil, fmt.Errorf("docker engine at %s is unreachable: %w; faultline needs a running Docker engine (set DOCKER_HOST if it is not the local socket)", cli.DaemonHost(), err)
	}
	return cli, nil
}

// ClusterConfig describes one run's cluster.
type ClusterConfig struct {
	// RunID names the network (faultline-<RunID>) and the containers
	// (faultline-<RunID>-n1 ...) and labels them. Letters, digits, '_',
	// '.' and '-', starting with a letter or digit.
	RunID string
	// Target is the store under test.
	Target targets.Target
	// Image is the target's image, as Target.Image returned it.
	Image string
	// Nodes is the number of nodes, 1 to 253.
	Nodes int
	// Logf reports progress; nil is silent.
	Logf func(format string, args ...any)
}

var runIDPattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

func (c ClusterConfig) validate() error {
	switch {
	case !runIDPattern.MatchString(c.RunID):
		return fmt.Errorf("run id %q: want letters, digits, '_', '.' or '-', starting with a letter or digit", c.RunID)
	case c.Target == nil:
		return errors.New("cluster config: no target")
	case c.Image == "":
		return errors.New("cluster config: no image (call Target.Image first)")
	case c.Nodes < 1 || c.Nodes > maxNodes:
		return fmt.Errorf("cluster config: %d nodes: want 1 to %d", c.Nodes, maxNodes)
	}
	return nil
}

// Cluster is a run's nodes as containers on one Docker engine. Each node
// is a container n1..nN running `sleep infinity` under the engine's init,
// with a fixed IP on the run's internal network and NET_ADMIN so that
// iptables works in its own network namespace; the DB process runs inside
// by exec. Faults act on that process, so the container, its network
// namespace and its iptables rules outlive kills and pauses.
//
// Cluster implements harness.Cluster and harness.Pauser, and is safe for
// concurrent use.
type Cluster struct {
	cli     client.APIClient
	cfg     ClusterConfig
	network string
	subnet  netip.Prefix
	nodes   []harness.Node

	mu        sync.Mutex
	started   map[string]bool        // nodes whose DB process was started before
	nodeLocks map[string]*sync.Mutex // serialize Start per node
	// dbExec is the exec of each node's current DB process, and stopping
	// the nodes whose process the harness has stopped or is stopping
	// (a kill, a crash, a member removal): WatchExits reports the exit
	// of any other.
	dbExec   map[string]string
	stopping map[string]bool
	reported map[string]bool // exec ids whose exit was reported
	// versions is the build each node runs (targets.Versioned); the
	// records in nodes never change after creation.
	versions map[string]string
	// armed is the failpoint armed to panic on each node's process.
	armed map[string]string
}

var (
	_ harness.Cluster = (*Cluster)(nil)
	_ harness.Pauser  = (*Cluster)(nil)
)

// NewCluster creates the run's network and containers and starts the DB
// process on every node as a new cluster. It does not wait for the
// cluster to be healthy; call WaitHealthy. If anything fails, whatever was
// created is removed again before the error returns.
func NewCluster(ctx context.Context, cli client.APIClient, cfg ClusterConfig) (*Cluster, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Cluster{
		cli:       cli,
		cfg:       cfg,
		network:   "faultline-" + cfg.RunID,
		started:   map[string]bool{},
		nodeLocks: map[string]*sync.Mutex{},
		dbExec:    map[string]string{},
		stopping:  map[string]bool{},
		reported:  map[string]bool{},
		versions:  map[string]string{},
		armed:     map[string]string{},
	}
	if err := c.create(ctx); err != nil {
		if terr := c.Teardown(ctx); terr != nil {
			err = fmt.Errorf("%w (and teardown: %v)", err, terr)
		}
		return nil, err
	}
	return c, nil
}

func (c *Cluster) create(ctx context.Context) error {
	start := time.Now()
	labels := OwnerLabels(c.cfg.RunID)
	_, subnet, err := createNetwork(ctx, c.cli, c.network, labels)
	if err != nil {
		return err
	}
	c.subnet = subnet
	var versions []string
	if v, ok := c.cfg.Target.(targets.Versioned); ok {
		versions = v.NodeVersions(c.cfg.Nodes)
	}
	for i := 1; i <= c.cfg.Nodes; i++ {
		ip := hostAddr(subnet, i+1).String()
		n := harness.Node{
			Name:     fmt.Sprintf("n%d", i),
			IP:       ip,
			Endpoint: fmt.Sprintf("http://%s:%d", ip, c.cfg.Target.ClientPort()),
		}
		if len(versions) == c.cfg.Nodes {
			c.versions[n.Name] = versions[i-1]
		}
		c.nodes = append(c.nodes, n)
	}
	if err := c.eachNode(func(n harness.Node) error { return c.createContainer(ctx, n, labels) }); err != nil {
		return err
	}
	c.logf("cluster %s: %d containers on %s up in %v", c.network, len(c.nodes), subnet, time.Since(start).Round(time.Millisecond))
	if err := c.checkIptables(ctx); err != nil {
		return err
	}
	return c.eachNode(func(n harness.Node) error { return c.Start(ctx, n) })
}

// createContainer creates and starts node n's container.
func (c *Cluster) createContainer(ctx context.Context, n harness.Node, labels map[string]string) error {
	init := true
	_, err := c.cli.ContainerCreate(ctx,
		&container.Config{
			Image:    c.cfg.Image,
			Hostname: n.Name,
			Cmd:      []string{"sleep", "infinity"},
			Labels:   labels,
		},
		&container.HostConfig{
			Init:        &init,
			CapAdd:      []string{"NET_ADMIN"},
			NetworkMode: container.NetworkMode(c.network),
		},
		&network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
			c.network: {IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: n.IP}},
		}},
		nil, c.containerName(n))
	if err != nil {
		return fmt.Errorf("create %s: %w", n.Name, err)
	}
	if err := c.cli.ContainerStart(ctx, c.containerName(n), container.StartOptions{}); err != nil {
		return fmt.Errorf("start container %s: %w", n.Name, err)
	}
	return nil
}

// checkIptables makes sure iptables works inside the nodes, so that a
// partition fails here, plainly, rather than as a nemesis error later.
func (c *Cluster) checkIptables(ctx context.Context) error {
	if out, err := c.Exec(ctx, c.nodes[0], "iptables", "-w", "-L", "-n"); err != nil {
		return fmt.Errorf("iptables does not work in the containers (it needs NET_ADMIN and a kernel with ip_tables): %w\n%s", err, out)
	}
	return nil
}

// eachNode runs f on every node concurrently and joins the errors.
func (c *Cluster) eachNode(f func(n harness.Node) error) error {
	errs := make([]error, len(c.nodes))
	var wg sync.WaitGroup
	for i, n := range c.nodes {
		wg.Go(func() { errs[i] = f(n) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (c *Cluster) containerName(n harness.Node) string {
	return c.network + "-" + n.Name
}

func (c *Cluster) logf(format string, args ...any) {
	if c.cfg.Logf != nil {
		c.cfg.Logf(format, args...)
	}
}

// Nodes lists the nodes in name order (n1, n2, ...).
func (c *Cluster) Nodes() []harness.Node {
	out := append([]harness.Node(nil), c.nodes...)
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range out {
		out[i].Version = c.versions[out[i].Name]
	}
	return out
}

// RunID returns the run id the cluster was created with.
func (c *Cluster) RunID() string { return c.cfg.RunID }

// Subnet returns the run network's subnet.
func (c *Cluster) Subnet() netip.Prefix { return c.subnet }

// Teardown removes the containers (with their DB processes) and the
// network. It is idempotent and uses its own 30 s budget, detached from
// ctx's cancellation, so it works on every exit path, including after
// SIGINT cancelled the run's context. Copy the logs out first.
func (c *Cluster) Teardown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	err := c.eachNode(func(n harness.Node) error {
		err := c.cli.ContainerRemove(ctx, c.containerName(n), container.RemoveOptions{Force: true, RemoveVolumes: true})
		if err != nil && !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("remove %s: %w", n.Name, err)
		}
		return nil
	})
	if nerr := c.cli.NetworkRemove(ctx, c.network); nerr != nil && !cerrdefs.IsNotFound(nerr) {
		err = errors.Join(err, fmt.Errorf("remove network %s: %w", c.network, nerr))
	}
	if err != nil {
		return fmt.Errorf("teardown %s: %w", c.network, err)
	}
	return nil
}

// StartAll starts the DB process on every node where it does not run (a
// node the nemesis left down, one whose process exited by itself). It
// tries every node and joins the errors.
func (c *Cluster) StartAll(ctx context.Context) error {
	return c.eachNode(func(n harness.Node) error { return c.Start(ctx, n) })
}

// SetVersion makes n run build from its next start on (an upgrade or a
// downgrade). It does not restart it.
func (c *Cluster) SetVersion(n harness.Node, build string) error {
	if _, ok := harness.NodeByName(c.nodes, n.Name); !ok {
		return fmt.Errorf("no node %q in cluster %s", n.Name, c.network)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.versions[n.Name] = build
	return nil
}

package harness

import "context"

// Node is one machine of the cluster under test.
type Node struct {
	// Name is n1..nN.
	Name string `json:"name"`
	// IP is the node's fixed address on the run's network.
	IP string `json:"ip"`
	// Endpoint is the client URL of the DB process, e.g. http://10.1.0.2:2379.
	Endpoint string `json:"endpoint"`
}

// Cluster is everything nemeses and clients may know of and do to the nodes.
// The runner sees the cluster only through this interface, so it runs
// unchanged against a fake in tests and against Docker containers for real.
type Cluster interface {
	// Nodes lists the nodes in name order.
	Nodes() []Node
	// Exec runs a command inside the node's machine and returns its
	// combined output. A non-zero exit status is an error that includes
	// the output.
	Exec(ctx context.Context, n Node, cmd ...string) (string, error)
	// Kill SIGKILLs the DB process on n. Killing a dead process is no error.
	Kill(ctx context.Context, n Node) error
	// Start starts the DB process on n if it is not running, rejoining the
	// existing cluster with its durable state.
	Start(ctx context.Context, n Node) error
	// Leader returns the node that currently leads, as the cluster reports.
	Leader(ctx context.Context) (Node, error)
}

// Pauser is a cluster that can freeze and thaw DB processes (SIGSTOP and
// SIGCONT). A cluster that cannot simply does not implement it.
type Pauser interface {
	Pause(ctx context.Context, n Node) error
	Resume(ctx context.Context, n Node) error
}

// NodeByName finds a node by name.
func NodeByName(nodes []Node, name string) (Node, bool) {
	for _, n := range nodes {
		if n.Name == name {
			return n, true
		}
	}
	return Node{}, false
}

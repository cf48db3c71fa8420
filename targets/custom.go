package targets

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/faultline/faultline/harness"
)

// Custom is a store of one's own that speaks etcd's v3 gRPC API,
// described by data rather than by code in faultline: where its
// executable comes from, its command line on each node, its client port,
// data directory, process name and log. Pass it to faultline in
// EnvOptions.Targets and name it in Spec.Target.
//
// The executable is Binary, a static Linux executable on the host that is
// layered on faultline's base image (Debian with iptables, iproute2 and
// procps) and keyed by its content, or LocalImage, a local image that already
// holds the executable and those tools.
type Custom struct {
	// TargetName is the --target value, e.g. "mystore".
	TargetName string
	// Binary is the host path of the executable; it is installed as
	// /usr/local/bin/<Process> on the base image.
	Binary string
	// LocalImage is a local image to use as it is, instead of Binary.
	LocalImage string
	// Process is the DB process's name as pkill -x matches it (at most 15
	// bytes). Empty means Binary's base name.
	Process string
	// Port is the TCP port the process serves clients on; 0 means 2379.
	Port int
	// Args is the process's argv, without the executable, on node n of
	// the cluster all, founding a new cluster or rejoining an existing
	// one (state).
	Args func(n harness.Node, all []harness.Node, state ClusterState) []string
	// Log is the file inside the container that the process's output is
	// appended to; empty means /var/log/<Process>.log.
	Log string
	// Data is the directory of all the process's durable state. With
	// PeerPort, it lets the member fault wipe and rejoin a node.
	Data string
	// PeerPort is the port the process serves raft peers on; 0 means the
	// target cannot rejoin a wiped node.
	PeerPort int
	// Election is the store's raft election timeout; 0 means
	// DefaultElectionTimeout.
	Election time.Duration
	// Serves lists the APIs beyond plain KV the store serves; nil means
	// all of them.
	Serves []harness.API
	// Calls lists the maintenance calls (CallCompact, CallHashKV, ...) the
	// store takes; nil means all of etcd's. The admin faults and the
	// check of the replicas at the end need them.
	Calls []string
}

var (
	_ Target      = Custom{}
	_ RaftTimer   = Custom{}
	_ APIProvider = Custom{}
	_ Rejoiner    = Custom{}

	_ MaintenanceProvider = Custom{}
)

var processPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,14}$`)

// Validate says what is missing or wrong in c.
func (c Custom) Validate() error {
	switch {
	case c.TargetName == "":
		return fmt.Errorf("custom target: no name")
	case (c.Binary == "") == (c.LocalImage == ""):
		return fmt.Errorf("custom target %s: give exactly one of Binary (a host path) and LocalImage (a local image)", c.TargetName)
	case c.Args == nil:
		return fmt.Errorf("custom target %s: no Args: faultline needs the process's command line on each node", c.TargetName)
	case !processPattern.MatchString(c.ProcessName()):
		return fmt.Errorf("custom target %s: process name %q must be 1 to 15 letters, digits, '.', '_' or '-' (the kernel's comm, which pkill -x matches)", c.TargetName, c.ProcessName())
	case c.Port < 0 || c.Port > 65535 || c.PeerPort < 0 || c.PeerPort > 65535:
		return fmt.Errorf("custom target %s: ports must be 0..65535", c.TargetName)
	}
	if c.Binary != "" {
		fi, err := os.Stat(c.Binary)
		if err != nil {
			return fmt.Errorf("custom target %s: binary: %w", c.TargetName, err)
		}
		if !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
			return fmt.Errorf("custom target %s: binary %s is not an executable file", c.TargetName, c.Binary)
		}
	}
	return nil
}

// Name is TargetName.
func (c Custom) Name() string { return c.TargetName }

// ProcessName is Process, or Binary's base name.
func (c Custom) ProcessName() string {
	if c.Process != "" {
		return c.Process
	}
	return filepath.Base(c.Binary)
}

// LogPath is Log, or /var/log/<process>.log.
func (c Custom) LogPath() string {
	if c.Log != "" {
		return c.Log
	}
	return "/var/log/" + c.ProcessName() + ".log"
}

// ClientPort is Port, or 2379.
func (c Custom) ClientPort() int {
	if c.Port == 0 {
		return 2379
	}
	return c.Port
}

// Command is the executable followed by Args.
func (c Custom) Command(n harness.Node, all []harness.Node, state ClusterState) []string {
	return append([]string{c.ProcessName()}, c.Args(n, all, state)...)
}

// ElectionTimeout is Election, or DefaultElectionTimeout.
func (c Custom) ElectionTimeout() time.Duration {
	if c.Election <= 0 {
		return DefaultElectionTimeout
	}
	return c.Election
}

// APIs are Serves, or every API.
func (c Custom) APIs() []harness.API {
	if c.Serves == nil {
		return harness.AllAPIs
	}
	return c.Serves
}

// MaintenanceCalls are Calls, or every call etcd takes.
func (c Custom) MaintenanceCalls() []string {
	if c.Calls == nil {
		return AllCalls
	}
	return c.Calls
}

// DataDir is Data; empty when the target cannot rejoin a wiped node.
func (c Custom) DataDir() string {
	if c.PeerPort == 0 {
		return ""
	}
	return c.Data
}

// PeerURL is http://<n's IP>:<PeerPort>.
func (c Custom) PeerURL(n harness.Node) string { return fmt.Sprintf("http://%s:%d", n.IP, c.PeerPort) }

// Image returns LocalImage as it is, or layers Binary on the base image, tagged
// by the binary's content.
func (c Custom) Image(ctx context.Context, b ImageBuilder) (string, error) {
	if err := c.Validate(); err != nil {
		return "", err
	}
	if c.LocalImage != "" {
		return c.LocalImage, nil
	}
	return b.BinaryImage(ctx, BinarySpec{Name: c.ProcessName(), Build: CopyFile(c.Binary)})
}

// CopyFile returns a BinarySpec.Build that copies the file at src: a
// binary built by the user.
func CopyFile(src string) func(ctx context.Context, out string) error {
	return func(_ context.Context, out string) error {
		in, err := os.Open(src)
		if err != nil {
			return fmt.Errorf("copy %s: %w", src, err)
		}
		defer in.Close()
		f, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
		if err != nil {
			return fmt.Errorf("copy %s: %w", src, err)
		}
		if _, err := io.Copy(f, in); err != nil {
			f.Close()
			return fmt.Errorf("copy %s: %w", src, err)
		}
		return f.Close()
	}
}

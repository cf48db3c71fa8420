package docker

import (
	"context"
	"fmt"
	"time"

	"github.com/docker/docker/client"
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

package main

import (
	"context"
	"fmt"

	"github.com/docker/docker/client"

	"github.com/faultline/faultline/targets"
	"github.com/faultline/faultline/targets/docker"
)

// testEnv is what runs share of the Docker engine: one client, swept of
// dead runs once when it is opened, and the images built so far. A single
// test opens one for itself; a matrix opens one for all its cells, so each
// image is built (or found) once and dead runs are swept once.
type testEnv struct {
	cli     *client.Client
	builder *docker.Builder
	images  map[string]string
	// lastRun is the directory of the run runTest last created, so that a
	// matrix can read each cell back; empty until a run exists.
	lastRun string
}

// newTestEnv connects to the Docker engine and sweeps away what dead runs
// left behind.
func newTestEnv(ctx context.Context) (*testEnv, error) {
	cli, err := connectAndSweep(ctx)
	if err != nil {
		return nil, err
	}
	b := docker.NewBuilder(cli)
	b.Logf = logf
	return &testEnv{cli: cli, builder: b, images: map[string]string{}}, nil
}

// image returns the tag of t's image, building it the first time only.
func (e *testEnv) image(ctx context.Context, t targets.Target) (string, error) {
	key := fmt.Sprintf("%T %+v", t, t)
	if tag, ok := e.images[key]; ok {
		return tag, nil
	}
	tag, err := t.Image(ctx, e.builder)
	if err != nil {
		return "", fmt.Errorf("image of %s: %w", t.Name(), err)
	}
	e.images[key] = tag
	return tag, nil
}

// close releases the Docker client.
func (e *testEnv) close() error { return e.cli.Close() }

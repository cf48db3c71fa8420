package faultline

import (
	"context"
	"fmt"
	"time"

	"github.com/docker/docker/client"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/targets"
	"github.com/faultline/faultline/targets/docker"
)

// EnvOptions configure an Env.
type EnvOptions struct {
	// Logf receives progress lines (the cluster is healthy, the check took
	// so long); nil is silent.
	Logf func(format string, args ...any)
	// Progress, when set, is called as each run starts; record receives
	// every op as it is recorded (it must be quick) and stop is called
	// when the workload and final phase are over. The CLI draws its live
	// progress line with it.
	Progress func(s Spec) (record func(harness.Op), stop func())
	// Targets are the user's own stores under test, looked up by name
	// before the built-in ones.
	Targets []targets.Target
}

// Env is what runs share of the Docker engine: one client, swept of the
// containers and networks of dead runs once when the Env is opened, and
// the images built so far, each built once. A single test opens one for
// itself; a matrix, a --test-count series and a scenario series open one
// for all their runs.
type Env struct {
	opts    EnvOptions
	cli     *client.Client
	builder *docker.Builder
	images  map[string]string
}

// NewEnv connects to the Docker engine (DOCKER_HOST, or the local socket)
// and sweeps away what dead runs left behind. Close it when done.
func NewEnv(ctx context.Context, opts EnvOptions) (*Env, error) {
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	cli, err := docker.Connect(ctx)
	if err != nil {
		return nil, err
	}
	report, err := docker.Sweep(ctx, cli, true)
	if n := len(report.Containers) + len(report.Networks); n > 0 {
		opts.Logf("swept %d containers and %d networks left by dead runs", len(report.Containers), len(report.Networks))
	}
	if err != nil {
		// What a dead run left is no reason to refuse this one; the next
		// sweep tries again.
		opts.Logf("warning: sweeping dead runs: %v", err)
	}
	b := docker.NewBuilder(cli)
	b.Logf = opts.Logf
	return &Env{opts: opts, cli: cli, builder: b, images: map[string]string{}}, nil
}

// Close releases the Docker client.
func (e *Env) Close() error { return e.cli.Close() }

// Validate checks s with the Env's own targets known (see Validate).
func (e *Env) Validate(s Spec) (Spec, error) { return Validate(s, e.opts.Targets...) }

// Image returns the tag of t's image, building it the first time only.
func (e *Env) Image(ctx context.Context, t targets.Target) (string, error) {
	key := fmt.Sprintf("%T %+v", t, t)
	if tag, ok := e.images[key]; ok {
		return tag, nil
	}
	started := time.Now()
	tag, err := t.Image(ctx, e.builder)
	if err != nil {
		return "", fmt.Errorf("image of %s: %w", t.Name(), err)
	}
	if d := time.Since(started); d > time.Second {
		e.opts.Logf("image %s ready in %.1fs", tag, d.Seconds())
	}
	e.images[key] = tag
	return tag, nil
}

// Images makes sure the image of every built-in target and of the Env's
// own exists, and returns their tags by target name.
func (e *Env) Images(ctx context.Context) (map[string]string, error) {
	tags := map[string]string{}
	for _, t := range allTargets(e.opts.Targets) {
		tag, err := e.Image(ctx, t)
		if err != nil {
			return tags, err
		}
		tags[t.Name()] = tag
	}
	return tags, nil
}

// Run opens an Env, runs s in it and closes it.
func Run(ctx context.Context, s Spec, opts EnvOptions) (Result, error) {
	if _, err := Validate(s, opts.Targets...); err != nil {
		return Result{Spec: s}, err
	}
	e, err := NewEnv(ctx, opts)
	if err != nil {
		return Result{Spec: s}, err
	}
	defer e.Close()
	return e.Run(ctx, s)
}

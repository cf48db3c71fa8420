// Command etcdrelease keeps, builds and inspects etcd releases the way
// faultline's images do (package targets/etcd/release):
//
//	etcdrelease keep v3.5.2 ...              (re)generate kept build modules
//	etcdrelease build [-failpoints] [-o f] V  build release V and print its --version
//	etcdrelease failpoints V                 list release V's failpoints
//
// Run it from the faultline source tree: go run ./targets/etcd/release/cmd/etcdrelease.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/faultline/faultline/targets"
	"github.com/faultline/faultline/targets/etcd/release"
)

const usage = `usage:
  etcdrelease keep VERSION...                    (re)generate the kept build modules of pinned releases
  etcdrelease build [-failpoints] [-o FILE] VERSION  build a release, print the time and its --version
  etcdrelease failpoints VERSION                 list a release's failpoints`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "etcdrelease:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch args[0] {
	case "keep":
		return keep(ctx, args[1:])
	case "build":
		return build(ctx, args[1:])
	case "failpoints":
		if len(args) != 2 {
			return errors.New(usage)
		}
		names, err := release.FailpointsContext(ctx, args[1])
		if err != nil {
			return err
		}
		fmt.Printf("%d failpoints: %s\n", len(names), strings.Join(names, " "))
		return nil
	default:
		return errors.New(usage)
	}
}

// keep regenerates the kept build module of each version.
func keep(ctx context.Context, versions []string) error {
	if len(versions) == 0 {
		return errors.New(usage)
	}
	root, err := targets.ModuleRoot()
	if err != nil {
		return err
	}
	for _, s := range versions {
		v, err := release.Resolve(ctx, s)
		if err != nil {
			return err
		}
		if !release.IsPinned(v) {
			return fmt.Errorf("keep %s: not in release.Pinned; add it there first", v)
		}
		dir := filepath.Join(root, release.KeptModules, v.String())
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return fmt.Errorf("keep %s: %w", v, err)
		}
		start := time.Now()
		if err := release.Generate(ctx, dir, v); err != nil {
			return fmt.Errorf("keep %s: %w", v, err)
		}
		fmt.Printf("kept %s in %s (%v)\n", v, dir, time.Since(start).Round(100*time.Millisecond))
	}
	return nil
}

// build builds one release, as an image would, and reports on it.
func build(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	failpoints := fs.Bool("failpoints", false, "enable every gofail failpoint of the release")
	out := fs.String("o", "etcd", "the binary to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New(usage)
	}
	start := time.Now()
	spec, err := release.Spec(ctx, fs.Arg(0), *failpoints)
	if err != nil {
		return err
	}
	prepared := time.Since(start)
	if err := spec.Build(ctx, *out); err != nil {
		return err
	}
	total := time.Since(start)
	version, err := release.BinaryVersion(ctx, *out)
	if err != nil {
		return err
	}
	first, _, _ := strings.Cut(version, "\n")
	fmt.Printf("%s: %.1fs (module %.1fs) key %q: %s\n", *out, total.Seconds(), prepared.Seconds(), spec.Key, first)
	return nil
}

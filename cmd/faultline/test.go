package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/faultline/faultline"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/targets/docker"
)

func testCommand(args []string) (int, error) {
	fs := newFlagSet("test", "test [flags]")
	var f testFlags
	f.register(fs)
	count := fs.String("test-count", "1", "run the test this many times (1..1000), each with the next seed, and print a table of the runs; the exit code is the worst verdict")
	if err := parseFlags(fs, args); err != nil {
		return 0, err
	}
	f.noteTyped(fs)
	if fs.NArg() > 0 {
		return 0, badInput{fmt.Errorf("unexpected argument %s: faultline test takes only flags (see --help)", harness.Quote(fs.Arg(0)))}
	}
	n, err := harness.ParseIntIn(*count, 1, 1000)
	if err != nil {
		return 0, harness.BadValue("test-count", *count, "want a number of runs from 1 to 1000")
	}
	var spec harness.Spec
	if f.replay != "" {
		// The replayed test.json is the whole spec; the flags only
		// name where it is stored.
		spec, err = replaySpec(f.replay, f.typed, &f)
	} else {
		spec, err = f.spec()
	}
	if err != nil {
		return 0, err
	}
	ctx, sig := signalContext()
	defer sig.stop()
	if n == 1 {
		return sig.code(runOne(ctx, spec))
	}
	// Repeated runs are a matrix whose cells differ only in their seed:
	// the same table, tally and worst-verdict exit code.
	cells := make([]matrixCell, n)
	for i := range cells {
		cells[i].spec = spec
		cells[i].spec.Seed = spec.Seed + int64(i)
	}
	title := fmt.Sprintf("faultline test x%d: %s, seeds %d..%d", n, spec.Name, spec.Seed, spec.Seed+int64(n-1))
	return sig.code(runMatrix(ctx, title, spec.Store, cells))
}

// envOptions are the options of every Env the CLI opens: progress on
// stderr, and the live progress line when stderr is a terminal.
func envOptions() faultline.EnvOptions {
	return faultline.EnvOptions{
		Logf: logf,
		Progress: func(s faultline.Spec) (func(harness.Op), func()) {
			p := newProgress(s.TimeLimit)
			return p.record, p.start(os.Stderr)
		},
	}
}

// runOne runs spec in an Env of its own and prints its summary.
func runOne(ctx context.Context, spec harness.Spec) (int, error) {
	res, err := faultline.Run(ctx, spec, envOptions())
	return report(res, err)
}

// report prints a finished run's summary and maps it to an exit code.
func report(res faultline.Result, err error) (int, error) {
	if res.Summary != "" {
		fmt.Print(res.Summary)
	}
	if err != nil {
		if res.Dir != "" {
			return 0, fmt.Errorf("%w (the run is stored in %s)", err, res.Dir)
		}
		return 0, err
	}
	if res.Interrupted {
		return 0, interrupted{dir: res.Dir}
	}
	return res.Valid().ExitCode(), nil
}

// interrupted is a run cut short by a signal: its partial history was
// checked and stored, and the exit code is the shell's for the signal.
type interrupted struct{ dir string }

func (i interrupted) Error() string {
	if i.dir == "" {
		return "interrupted"
	}
	return "interrupted; the partial run was checked and stored in " + i.dir
}

// signals turns SIGINT and SIGTERM into a cancelled context, and
// remembers which came, so that an interrupted run exits 130 or 143 as
// shells expect.
type signals struct {
	got  atomic.Int32
	stop func()
}

func signalContext() (context.Context, *signals) {
	s := &signals{}
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			if sig == syscall.SIGTERM {
				s.got.Store(int32(syscall.SIGTERM))
			} else {
				s.got.Store(int32(syscall.SIGINT))
			}
			cancel()
		case <-done:
		}
	}()
	s.stop = func() {
		signal.Stop(ch)
		close(done)
		cancel()
	}
	return ctx, s
}

// code maps an interrupted run's error to 128 + the signal's number.
func (s *signals) code(code int, err error) (int, error) {
	if _, ok := err.(interrupted); ok || (err != nil && s.got.Load() != 0) {
		n := int(s.got.Load())
		if n == 0 {
			n = int(syscall.SIGINT)
		}
		fmt.Fprintf(os.Stderr, "faultline: %v\n", err)
		return 128 + n, nil
	}
	return code, err
}

// logf reports progress on stderr, stamped with the wall clock.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

func imagesCommand(args []string) (int, error) {
	fs := newFlagSet("images", "images [--target etcd --target-version V[,W...]] [--target-failpoints]")
	target := fs.String("target", "", "build only this target's image (default: every target's, at its default build)")
	version := fs.String("target-version", "", "the releases to build, comma-separated (etcd: any release from v3.5.0)")
	failpoints := fs.Bool("target-failpoints", false, "build the releases with their failpoints")
	if err := parseFlags(fs, args); err != nil {
		return 0, err
	}
	names := faultline.TargetNames()
	if *target != "" || *version != "" || *failpoints {
		if *target == "" {
			*target = faultline.DefaultTarget
		}
		names = []string{*target}
	}
	if fs.NArg() > 0 {
		return 0, badInput{fmt.Errorf("unexpected argument %s: faultline images takes no arguments", harness.Quote(fs.Arg(0)))}
	}
	ctx, sig := signalContext()
	defer sig.stop()
	env, err := faultline.NewEnv(ctx, faultline.EnvOptions{Logf: logf})
	if err != nil {
		return 0, err
	}
	defer env.Close()
	for _, name := range names {
		t, err := faultline.Target(harness.Spec{Target: name, TargetVersion: *version, TargetFailpoints: *failpoints})
		if err != nil {
			return 0, err
		}
		tag, err := env.Image(ctx, t)
		if err != nil {
			return 0, err
		}
		fmt.Printf("%s\t%s\n", name, tag)
	}
	return 0, nil
}

func cleanCommand(args []string) (int, error) {
	fs := newFlagSet("clean", "clean")
	if err := parseFlags(fs, args); err != nil {
		return 0, err
	}
	ctx := context.Background()
	cli, err := docker.Connect(ctx)
	if err != nil {
		return 0, err
	}
	defer cli.Close()
	report, err := docker.Sweep(ctx, cli, false)
	fmt.Printf("removed %d containers and %d networks\n", len(report.Containers), len(report.Networks))
	return 0, err
}

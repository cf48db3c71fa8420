package harness

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"sync"
	"time"
)

// RunConfig is everything the runner needs for one test. The runner knows
// nothing of Docker or of any store: the cluster, the clients and the
// recovery are all handed in.
type RunConfig struct {
	// Cluster is the cluster under test.
	Cluster Cluster
	// Concurrency is the number of client threads. Thread i is pinned to
	// node i mod N, unless Place says otherwise.
	Concurrency int
	// Rate is the target number of invocations per second over all
	// threads; 0 means as fast as the clients go.
	Rate float64
	// TimeLimit bounds the workload phase.
	TimeLimit time.Duration
	// OpTimeout bounds each client op; an op that runs out is info. A
	// client that is a Timeouter may choose another bound for an op.
	OpTimeout time.Duration
	// Seed drives the generator and the stagger between ops.
	Seed int64
	// Generator produces the client ops.
	Generator Generator
	// OpenClient opens the client of one thread, pinned to node.
	OpenClient func(ctx context.Context, node Node) (Client, error)
	// Place chooses the node thread i opens its client against, and whose
	// name its ops carry in op.Node. It may return a node outside the
	// cluster, such as Node{Name: FailoverNode}, which OpenClient must
	// understand. Nil pins thread i to node i mod N.
	Place func(thread int, nodes []Node) Node
	// Nemesis performs Schedule. Nil means no faults.
	Nemesis Nemesis
	// Schedule is the fault schedule, in time order.
	Schedule []Step
	// Recorder receives every op.
	Recorder *Recorder
	// Recover brings every DB process back after the final heal
	// (starting those that are not running, such as one that exited by
	// itself). It should be bounded. It does not wait for the cluster to
	// serve: the probes show when each node does.
	Recover func(ctx context.Context) error
	// OpenProbe opens a client that answers ProbeF ops on a node: a
	// linearizable read that changes nothing. After the final heal each
	// node is probed, again and again, until it answers ok or
	// RecoverTimeout passes, so that every node's recovery is its own and
	// a node that never serves again is in the history. Nil: no probes.
	OpenProbe func(ctx context.Context, node Node) (Client, error)
	// RecoverTimeout bounds the probes of each node after the final heal.
	RecoverTimeout time.Duration
	// FinalOps are performed after the probes, one at a time, each by a
	// fresh process pinned to the op's Node.
	FinalOps []Op
	// HashReplicas asks, after the final ops, every member's HashKV at one
	// common revision (the cluster must be a Maintainer), each recorded as
	// a HashKVF op of the MonitorProcess, for the replicas checker.
	HashReplicas bool
	// Logf reports progress; nil is silent.
	Logf func(format string, args ...any)
}

// Run performs the workload phase with the nemesis alongside, then the
// final phase: heal everything, recover, and perform the final ops. It
// returns the recorded history. ctx cancellation (SIGINT) stops the
// workload early but still heals.
//
// The returned error reports a harness failure (a client that could not be
// opened, a heal that failed); the history recorded so far is returned with
// it, since it is still checkable.
func Run(ctx context.Context, cfg RunConfig) (History, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	nodes := cfg.Cluster.Nodes()
	logf := cfg.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	workCtx, stop := context.WithTimeout(ctx, cfg.TimeLimit)
	defer stop()

	gen := &lockedGenerator{g: cfg.Generator, r: rand.New(rand.NewSource(cfg.Seed))}
	var wg sync.WaitGroup
	errs := make([]error, cfg.Concurrency)
	for i := 0; i < cfg.Concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := worker{cfg: &cfg, gen: gen, node: cfg.place(i, nodes), process: Process(i), stagger: rand.New(rand.NewSource(cfg.Seed + int64(i) + 1))}
			defer func() {
				// A panic in a client must not skip the teardown that
				// main defers: turn it into a harness error.
				if p := recover(); p != nil {
					errs[i] = fmt.Errorf("client thread %d panicked: %v", i, p)
				}
			}()
			errs[i] = w.run(ctx, workCtx)
		}()
	}
	nemesisDone := make(chan error, 1)
	go func() { nemesisDone <- runNemesis(workCtx, cfg) }()
	stopMonitor := startMonitor(ctx, cfg)
	wg.Wait()
	stop()
	err := errors.Join(append(errs, <-nemesisDone)...)

	logf("final phase: healing, and probing every node until it serves")
	if ferr := finalPhase(ctx, cfg, logf); ferr != nil {
		err = errors.Join(err, ferr)
	}
	stopMonitor()
	return cfg.Recorder.History(), err
}

// ProbeF is the f of the harness's recovery probes: a linearizable read,
// through a client of the harness's own, that shows when a node serves.
// Workload checkers never see these ops; the availability checker reads
// them as linearizable reads.
const ProbeF = "probe"

// probeEvery is the pause between two probes of a node that did not
// answer ok.
const probeEvery = 250 * time.Millisecond

// startMonitor records, while the run lasts, every exit of a DB process
// that the cluster reports (ExitWatcher) as a ProcessExit op. The
// returned function stops it and waits for it.
func startMonitor(ctx context.Context, cfg RunConfig) func() {
	w, ok := cfg.Cluster.(ExitWatcher)
	if !ok {
		return func() {}
	}
	mctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.WatchExits(mctx, func(e Exit) {
			f := ProcessExit
			if e.Failpoint != "" {
				f = FailpointFired
			}
			inv, err := cfg.Recorder.Record(Op{Process: MonitorProcess, Type: Invoke, F: f, Node: e.Node})
			if err != nil {
				return
			}
			// The observation certainly happened: ok, with what was seen.
			c := inv.Completion(OK)
			c.Value = MustValue(e)
			_, _ = cfg.Recorder.Record(c)
			if cfg.Logf != nil && e.Failpoint != "" {
				cfg.Logf("%s: failpoint %s fired: the DB process exited (status %d)", e.Node, e.Failpoint, e.Code)
			} else if cfg.Logf != nil {
				cfg.Logf("%s: the DB process exited by itself (status %d) %s", e.Node, e.Code, e.Line)
			}
		})
	}()
	return func() {
		cancel()
		<-done
	}
}

// FailoverNode is the node name of a client given every endpoint, as
// op.Node records it: such a client belongs to no side of a partition.
const FailoverNode = "all"

// place returns thread i's node.
func (cfg *RunConfig) place(i int, nodes []Node) Node {
	if cfg.Place != nil {
		return cfg.Place(i, nodes)
	}
	return nodes[i%len(nodes)]
}

func (cfg *RunConfig) validate() error {
	switch {
	case cfg.Cluster == nil || len(cfg.Cluster.Nodes()) == 0:
		return errors.New("run: no cluster nodes")
	case cfg.Concurrency < 1:
		return fmt.Errorf("run: concurrency must be at least 1, got %d", cfg.Concurrency)
	case cfg.TimeLimit <= 0:
		return fmt.Errorf("run: time limit must be positive, got %v", cfg.TimeLimit)
	case cfg.OpTimeout <= 0:
		return fmt.Errorf("run: op timeout must be positive, got %v", cfg.OpTimeout)
	case cfg.Generator == nil || cfg.OpenClient == nil || cfg.Recorder == nil:
		return errors.New("run: generator, client opener and recorder are required")
	case cfg.OpenProbe != nil && cfg.RecoverTimeout <= 0:
		return fmt.Errorf("run: probes need a positive recover timeout, got %v", cfg.RecoverTimeout)
	}
	return nil
}

// lockedGenerator serializes the generator, so that for one seed the ops
// drawn depend only on the order in which threads ask.
type lockedGenerator struct {
	mu sync.Mutex
	g  Generator
	r  *rand.Rand
}

func (l *lockedGenerator) next(p Process) (Op, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.g.Next(l.r, p)
}

func (l *lockedGenerator) observe(op Op) {
	o, ok := l.g.(Observer)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	o.Observe(op)
}

// worker is one client thread.
type worker struct {
	cfg     *RunConfig
	gen     *lockedGenerator
	node    Node
	process Process
	stagger *rand.Rand
}

// run invokes ops until workCtx ends. Ops in flight when it ends run to
// their own timeout under ctx, so the time limit never turns a completed op
// into an unknown one; only ctx (an interrupt) cuts them short.
func (w *worker) run(ctx, workCtx context.Context) error {
	client, err := w.cfg.OpenClient(workCtx, w.node)
	if err != nil {
		if workCtx.Err() != nil {
			return nil
		}
		return fmt.Errorf("open client on %s: %w", w.node.Name, err)
	}
	defer client.Close()
	for {
		if !w.wait(workCtx) {
			return nil
		}
		op, ok := w.gen.next(w.process)
		if !ok {
			return nil
		}
		done, err := invoke(ctx, w.cfg, client, w.process, w.node, op)
		if err != nil {
			return err
		}
		w.gen.observe(done)
		if done.Type == Info {
			// The op may still take effect at any later time; Jepsen
			// retires the process so its ops never overlap.
			w.process += Process(w.cfg.Concurrency)
		}
	}
}

// wait sleeps a random stagger so that the threads together approach Rate.
// It reports false when the workload phase is over.
func (w *worker) wait(workCtx context.Context) bool {
	if w.cfg.Rate <= 0 {
		return workCtx.Err() == nil
	}
	mean := float64(w.cfg.Concurrency) / w.cfg.Rate
	d := time.Duration(w.stagger.Float64() * 2 * mean * float64(time.Second))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-workCtx.Done():
		return false
	case <-t.C:
		return true
	}
}

// invoke records op's invocation, performs it and records its completion.
func invoke(ctx context.Context, cfg *RunConfig, client Client, p Process, node Node, op Op) (Op, error) {
	op.Process, op.Type, op.Node = p, Invoke, node.Name
	op, err := cfg.Recorder.Record(op)
	if err != nil {
		return op, fmt.Errorf("record invocation: %w", err)
	}
	timeout := cfg.OpTimeout
	if t, ok := client.(Timeouter); ok {
		if d := t.OpTimeout(op, timeout); d > 0 {
			timeout = d
		}
	}
	opCtx, cancel := context.WithTimeout(ctx, timeout)
	done := client.Invoke(opCtx, op)
	cancel()
	done.Process, done.Node, done.F, done.Key = p, node.Name, op.F, op.Key
	if done.Type == Invoke || done.Type == "" {
		done.Type = Info
		done.Error = "client returned no completion"
	}
	done, err = cfg.Recorder.Record(done)
	if err != nil {
		return done, fmt.Errorf("record completion: %w", err)
	}
	return done, nil
}

// runNemesis performs the schedule until the workload phase ends.
func runNemesis(workCtx context.Context, cfg RunConfig) error {
	if cfg.Nemesis == nil {
		return nil
	}
	for _, step := range cfg.Schedule {
		wait := step.At - cfg.Recorder.Since()
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-workCtx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
		}
		if workCtx.Err() != nil {
			return nil
		}
		if _, err := nemesisOp(workCtx, cfg, Op{F: step.F, Value: step.Value}); err != nil {
			return err
		}
	}
	return nil
}

// nemesisOp records a nemesis invocation, performs it, and records its
// completion. A fault that could not be applied is recorded as info and
// does not stop the test: its window is simply unknown. A nemesis that
// panics is a bug of the harness: its op is completed as info with the
// panic as its error, the schedule stops, and the run goes on to its
// final phase, which heals and tears down as on any other path.
func nemesisOp(ctx context.Context, cfg RunConfig, op Op) (_ Op, err error) {
	op.Process, op.Type = NemesisProcess, Invoke
	op, err = cfg.Recorder.Record(op)
	if err != nil {
		return op, fmt.Errorf("record nemesis invocation: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			done := op.Completion(Info)
			done.Error = fmt.Sprintf("nemesis panicked: %v", p)
			_, _ = cfg.Recorder.Record(done)
			err = fmt.Errorf("nemesis %s panicked: %v", op.F, p)
		}
	}()
	done := cfg.Nemesis.Invoke(ctx, cfg.Cluster, op)
	done.Process, done.F = NemesisProcess, op.F
	if done.Type == Invoke || done.Type == "" {
		done.Type = Info
	}
	if done.Error != "" && cfg.Logf != nil {
		cfg.Logf("nemesis %s: %s", op.F, done.Error)
	}
	return cfg.Recorder.Record(done)
}

// finalPhase heals, recovers and performs the final ops. It runs under a
// context detached from an interrupt, because leaving faults in force is
// never right; every step is bounded on its own.
func finalPhase(ctx context.Context, cfg RunConfig, logf func(string, ...any)) error {
	healCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
	defer cancel()
	var errs []error
	if cfg.Nemesis != nil {
		op := Op{Process: NemesisProcess, Type: Invoke, F: "heal"}
		op, _ = cfg.Recorder.Record(op)
		done := op.Completion(OK)
		if err := safeHeal(healCtx, cfg); err != nil {
			done.Type, done.Error = Info, err.Error()
			errs = append(errs, fmt.Errorf("heal: %w", err))
		}
		if r, ok := cfg.Nemesis.(HealReporter); ok {
			done.Value = MustValue(r.HealReport())
		}
		_, _ = cfg.Recorder.Record(done)
	}
	if ctx.Err() != nil {
		return errors.Join(errs...)
	}
	if cfg.Recover != nil {
		if err := cfg.Recover(healCtx); err != nil {
			// A process that will not start is the store's finding, not
			// the harness's: the probes record that its node never
			// serves.
			logf("restarting the DB processes after the heal: %v", err)
		}
	}
	next := maxProcess(cfg.Recorder.History()) + 1
	if cfg.OpenProbe != nil {
		var err error
		if next, err = probeAll(ctx, cfg, next, logf); err != nil {
			errs = append(errs, err)
		}
	}
	for _, op := range cfg.FinalOps {
		node, ok := NodeByName(cfg.Cluster.Nodes(), op.Node)
		if !ok {
			errs = append(errs, fmt.Errorf("final op on unknown node %q", op.Node))
			continue
		}
		client, err := cfg.OpenClient(ctx, node)
		if err != nil {
			errs = append(errs, fmt.Errorf("open final client on %s: %w", node.Name, err))
			continue
		}
		if _, err := invoke(ctx, &cfg, client, next, node, op); err != nil {
			errs = append(errs, err)
		}
		client.Close()
		next++
	}
	if cfg.HashReplicas {
		if err := hashReplicas(ctx, cfg); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// hashWait bounds the wait for a member to reach the common revision.
const hashWait = 10 * time.Second

// hashReplicas records every member's HashKV at the highest revision any
// member reports: a member behind it is asked again until it catches up
// or hashWait passes, and its last answer is recorded either way.
func hashReplicas(ctx context.Context, cfg RunConfig) error {
	mt, ok := cfg.Cluster.(Maintainer)
	if !ok {
		return errors.New("hash the replicas: the cluster takes no maintenance calls")
	}
	nodes := cfg.Cluster.Nodes()
	var common int64
	for _, n := range nodes {
		if h, err := mt.HashKV(ctx, n, 0); err == nil {
			common = max(common, h.Current)
		}
	}
	for _, n := range nodes {
		inv, err := cfg.Recorder.Record(Op{Process: MonitorProcess, Type: Invoke, F: HashKVF, Node: n.Name, Value: MustValue(map[string]int64{"revision": common})})
		if err != nil {
			return fmt.Errorf("record hashkv: %w", err)
		}
		deadline := time.Now().Add(hashWait)
		var h HashKV
		for {
			h, err = mt.HashKV(ctx, n, common)
			if err == nil || time.Now().After(deadline) || ctx.Err() != nil || common == 0 {
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
		done := inv.Completion(OK)
		if err != nil {
			done.Type, done.Error = Info, Shorten(err.Error(), 300)
		} else {
			done.Value = MustValue(h)
		}
		if _, err := cfg.Recorder.Record(done); err != nil {
			return fmt.Errorf("record hashkv: %w", err)
		}
	}
	return nil
}

// probeAll probes every node at once, each with a process of its own from
// next on, until it answers ok or RecoverTimeout passes, and returns the
// next free process. Every probe is recorded.
func probeAll(ctx context.Context, cfg RunConfig, next Process, logf func(string, ...any)) (Process, error) {
	nodes := cfg.Cluster.Nodes()
	deadline := time.Now().Add(cfg.RecoverTimeout)
	var mu sync.Mutex
	alloc := func() Process {
		mu.Lock()
		defer mu.Unlock()
		next++
		return next - 1
	}
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { errs[i] = probeNode(ctx, cfg, n, alloc, deadline) })
	}
	wg.Wait()
	return next, errors.Join(errs...)
}

// probeNode probes n until it answers ok or deadline passes. An info probe
// retires its process, as any client op's does, and the next probe takes
// a fresh one from alloc.
func probeNode(ctx context.Context, cfg RunConfig, n Node, alloc func() Process, deadline time.Time) error {
	client, err := cfg.OpenProbe(ctx, n)
	if err != nil {
		return fmt.Errorf("open probe client on %s: %w", n.Name, err)
	}
	defer client.Close()
	p := alloc()
	for {
		done, err := invoke(ctx, &cfg, client, p, n, Op{F: ProbeF})
		if err != nil {
			return err
		}
		if done.Type == OK || time.Now().After(deadline) || ctx.Err() != nil {
			return nil
		}
		if done.Type == Info {
			p = alloc()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(probeEvery):
		}
	}
}

// safeHeal heals, turning a panic of the nemesis into an error, so that
// the final phase and the teardown after it still run.
func safeHeal(ctx context.Context, cfg RunConfig) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("nemesis panicked while healing: %v", p)
		}
	}()
	return cfg.Nemesis.Heal(ctx, cfg.Cluster)
}

func maxProcess(h History) Process {
	var m Process
	for _, op := range h {
		m = max(m, op.Process)
	}
	return m
}

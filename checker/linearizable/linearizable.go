// Package linearizable checks that each independent key of a history is
// linearizable, using porcupine. It knows nothing of any one workload: a
// workload hands it a Model that says how its ops read as porcupine
// operations, and the checker does the rest: partitioning by key, open-ended
// returns for ops of unknown outcome, a time budget, and an HTML
// visualization of every key that is not linearizable.
package linearizable

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/faultline/faultline/harness"
)

// DefaultTimeout is the total time budget of a check when Options.Timeout
// is zero.
const DefaultTimeout = 60 * time.Second

// Model tells the checker how to judge the ops of one workload.
type Model struct {
	// Spec is porcupine's sequential specification of ONE key: the checker
	// partitions the history by Op.Key itself, so Spec.Partition is
	// ignored, and Spec.Init is the state of a key nobody has touched.
	// Spec.DescribeOperationMetadata is replaced by the checker's own,
	// which names the history op behind each box of the visualization.
	//
	// Step must accept an op of unknown outcome (info, or never completed)
	// in every state, as a no-op where its effect cannot apply (an info cas
	// whose old value does not match). Porcupine linearizes every op it is
	// given; placing an open-ended op after all the others is how it says
	// "this never happened", and a refusal there would turn "maybe" into a
	// false alarm.
	Spec porcupine.Model
	// Decode turns one client op into porcupine's input and output.
	// completion is the ok or info completion, or nil when the op never
	// completed. Ops that completed with fail certainly did not happen and
	// are dropped before Decode is called. keep=false drops the op too, for
	// ops that neither changed nor observed anything (an info read). An
	// error makes the op's key unknown, with the error as the reason.
	Decode func(invoke harness.Op, completion *harness.Op) (input, output any, keep bool, err error)
}

func (m Model) validate() error {
	switch {
	case m.Spec.Init == nil:
		return errors.New("linearizable model: Spec.Init is required")
	case m.Spec.Step == nil && m.Spec.StepContext == nil:
		return errors.New("linearizable model: Spec.Step or Spec.StepContext is required")
	case m.Decode == nil:
		return errors.New("linearizable model: Decode is required")
	}
	return nil
}

// Options configure a Checker. The zero value is ready to use.
type Options struct {
	// Timeout is the total time budget for checking every key. A key still
	// being checked when it runs out, or not yet started, is unknown. Zero
	// means DefaultTimeout. A deadline on the Check context also bounds it;
	// a cancellation stops keys from starting, but porcupine cannot be
	// interrupted, so a key already running finishes its own timeout.
	Timeout time.Duration
	// KeyTimeout caps the time spent on any one key, so that a few hard
	// keys cannot eat the budget of all the others. Zero means no cap
	// beyond Timeout. Check's two passes protect the easy keys even so.
	KeyTimeout time.Duration
	// Parallelism is how many keys are checked at once. Zero means
	// GOMAXPROCS.
	Parallelism int
}

func (o Options) validate() error {
	switch {
	case o.Timeout < 0:
		return fmt.Errorf("linearizable: timeout must not be negative, got %v", o.Timeout)
	case o.KeyTimeout < 0:
		return fmt.Errorf("linearizable: key timeout must not be negative, got %v", o.KeyTimeout)
	case o.Parallelism < 0:
		return fmt.Errorf("linearizable: parallelism must not be negative, got %d", o.Parallelism)
	}
	return nil
}

// Checker is the porcupine linearizability checker. It implements
// harness.Checker and is safe for concurrent use.
type Checker struct {
	model Model
	opts  Options
}

// New returns a checker for model. It fails only on a model missing its
// Init, Step or Decode, or on negative options.
func New(model Model, opts Options) (*Checker, error) {
	if err := model.validate(); err != nil {
		return nil, err
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Parallelism == 0 {
		opts.Parallelism = runtime.GOMAXPROCS(0)
	}
	model.Spec.Partition, model.Spec.PartitionEvent = nil, nil
	model.Spec.DescribeOperationMetadata = describeMeta
	return &Checker{model: model, opts: opts}, nil
}

// Name is "linearizable".
func (c *Checker) Name() string { return "linearizable" }

// Check judges every key of h. The verdict is false if any key is not
// linearizable, else unknown if any key could not be decided in time (or
// could not be decoded, or h itself is malformed), else true. Details are a *Details. When out is
// not empty, out/linear/<key>.html visualizes each key that is not
// linearizable, with the nemesis windows of h as annotations.
//
// Keys are checked in two passes. The first gives every key a short slice
// of the budget (a twentieth, or KeyTimeout if smaller), so that the many
// easy keys, and the easy violations, are settled before a few hard keys
// can spend the budget; the second gives the keys that ran out the rest of
// the budget, up to KeyTimeout each. A key that needs the second pass is
// checked again from scratch, so at most a twentieth of the budget per key
// is spent twice.
func (c *Checker) Check(ctx context.Context, h harness.History, out string) harness.Result {
	start := time.Now()
	deadline := start.Add(c.opts.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := h.Validate(); err != nil {
		// Pairs would match invocations and completions wrongly, and a
		// verdict on a misread history is worth nothing either way.
		d := &Details{Error: fmt.Sprintf("malformed history: %v", err)}
		return harness.Result{Valid: harness.ValidUnknown, Summary: []string{"linearizable: unknown, " + d.Error}, Details: d}
	}
	keys, dropped := partition(h, c.model.Decode)
	results := make([]KeyResult, len(keys))
	infos := make([]porcupine.LinearizationInfo, len(keys))

	firstCap := c.opts.Timeout / 20
	if c.opts.KeyTimeout > 0 {
		firstCap = min(firstCap, c.opts.KeyTimeout)
	}
	all := make([]int, len(keys))
	for i := range keys {
		all[i] = i
	}
	timedOut := c.pass(ctx, keys, all, deadline, firstCap, results, infos)
	if len(timedOut) > 0 && (c.opts.KeyTimeout == 0 || c.opts.KeyTimeout > firstCap) {
		c.pass(ctx, keys, timedOut, deadline, c.opts.KeyTimeout, results, infos)
	}

	d := &Details{Keys: len(keys), Dropped: dropped, PerKey: results}
	var annotations []porcupine.Annotation
	if out != "" {
		annotations = nemesisAnnotations(h)
	}
	for i, k := range keys {
		d.Ops += len(k.ops)
		switch results[i].Valid {
		case harness.ValidFalse:
			d.Bad = append(d.Bad, k.key)
			if out != "" {
				file, err := writeVisualization(out, k.key, c.model.Spec, infos[i], annotations)
				if err != nil {
					d.ArtifactErrors = append(d.ArtifactErrors, err.Error())
				}
				results[i].File = file
			}
		case harness.ValidUnknown:
			d.Unknown = append(d.Unknown, k.key)
		}
	}
	d.TookSeconds = time.Since(start).Seconds()
	valid := harness.ValidTrue
	for _, r := range results {
		valid = harness.Merge(valid, r.Valid)
	}
	return harness.Result{Valid: valid, Summary: d.summary(), Details: d}
}

// pass checks the keys numbered in which, Parallelism at a time, each for
// at most keyCap (zero: no cap) and never past deadline, and stores their
// results. It returns the keys whose check timed out, in key order.
func (c *Checker) pass(ctx context.Context, keys []keyHistory, which []int, deadline time.Time, keyCap time.Duration, results []KeyResult, infos []porcupine.LinearizationInfo) []int {
	timedOut := make([]bool, len(keys))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(c.opts.Parallelism, max(len(which), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				earlier := results[i]
				results[i], infos[i], timedOut[i] = c.checkKey(ctx, keys[i], deadline, keyCap)
				results[i].TookSeconds += earlier.TookSeconds
				if earlier.Reason != "" && results[i].Valid == harness.ValidUnknown && !timedOut[i] {
					// A retry that never ran: the first pass's reason
					// is the one that matters.
					results[i].Reason = earlier.Reason + ", then " + results[i].Reason
				}
			}
		}()
	}
	for _, i := range which {
		next <- i
	}
	close(next)
	wg.Wait()
	var out []int
	for _, i := range which {
		if timedOut[i] {
			out = append(out, i)
		}
	}
	return out
}

// checkKey runs porcupine on one key for at most keyCap (zero: no cap) and
// never past deadline. timedOut reports that porcupine ran out of time.
func (c *Checker) checkKey(ctx context.Context, k keyHistory, deadline time.Time, keyCap time.Duration) (r KeyResult, info porcupine.LinearizationInfo, timedOut bool) {
	r = KeyResult{Key: k.key, Ops: len(k.ops), Open: k.open, Valid: harness.ValidUnknown}
	if k.decodeErr != nil {
		r.Reason = k.decodeErr.Error()
		return r, info, false
	}
	if err := ctx.Err(); err != nil {
		r.Reason = fmt.Sprintf("not checked: %v", err)
		return r, info, false
	}
	timeout := time.Until(deadline)
	if keyCap > 0 && keyCap < timeout {
		timeout = keyCap
	}
	if timeout <= 0 {
		// porcupine reads a zero timeout as "unlimited": never pass one.
		r.Reason = "not checked: time budget exhausted"
		return r, info, false
	}
	start := time.Now()
	res, info := porcupine.CheckOperationsVerbose(c.model.Spec, k.ops, timeout)
	r.TookSeconds = time.Since(start).Seconds()
	switch res {
	case porcupine.Ok:
		r.Valid = harness.ValidTrue
	case porcupine.Illegal:
		r.Valid = harness.ValidFalse
		r.Anomaly = explain(c.model.Spec, k.ops, info)
	default:
		r.Reason = fmt.Sprintf("timed out after %v", timeout.Round(time.Millisecond))
		timedOut = true
	}
	return r, info, timedOut
}

// openReturn is the return time of an op whose outcome is unknown: it may
// take effect at any time after its invocation, so its interval never ends.
const openReturn = math.MaxInt64

package nemesis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"path"
	"slices"
	"time"

	"github.com/faultline/faultline/fault"
	"github.com/faultline/faultline/harness"
)

// corruptFault is the corrupt kind: the target nodes' DB processes are
// killed and their durable files damaged as a failing disk damages them;
// the stop starts them again. A store that finds the damage and refuses
// to start does right: the stop then replaces the node by a wiped member,
// as an operator would, and says so. A store that starts and serves
// damaged data, or loses what it acknowledged, is for the checkers to
// find.
type corruptFault struct{}

// corruptValue is the value of a scheduled start-corrupt: the targets and
// seed, the modes to draw from and a bitflip's chance per byte.
type corruptValue struct {
	faultValue
	Modes []string `json:"modes"`
}

// Damage is what a corrupt step did to one node's files.
type Damage struct {
	// Mode is one of fault.CorruptModes.
	Mode string `json:"mode"`
	// File is the file damaged, as a path inside the node; Size its size
	// before.
	File string `json:"file,omitempty"`
	Size int    `json:"size,omitempty"`
	// Flips counts the bits a bitflip flipped.
	Flips int `json:"flips,omitempty"`
	// Cut is how many bytes a truncation took off the end of what was
	// written (the file's last byte that is not zero).
	Cut int `json:"cut,omitempty"`
	// Note says why the mode differs from the one drawn, or why nothing
	// was damaged.
	Note string `json:"note,omitempty"`
}

// CorruptEffect is the completion value of start-corrupt (Nodes, Damage)
// and of stop-corrupt (Nodes, Refused, Replaced).
type CorruptEffect struct {
	Nodes  []string          `json:"nodes"`
	Damage map[string]Damage `json:"damage,omitempty"`
	// Refused holds, for each node whose store refused to start on its
	// damaged files, the log line that says why. The log checker holds
	// no line of that node's log during the op against the store.
	Refused map[string]string `json:"refused,omitempty"`
	// Replaced are the nodes then removed, wiped and added back as new
	// members.
	Replaced []string `json:"replaced,omitempty"`
	Leader   string   `json:"leader,omitempty"`
}

// damagedStart bounds the wait for a damaged node to serve or refuse.
const damagedStart = 30 * time.Second

func (corruptFault) draw(base faultValue, opts Options) any {
	modes, _ := fault.ParseCorruptModes(opts.option("corrupt-modes"))
	base.Probability, _ = harness.ParseFloatIn(opts.option("bitflip-probability"), 0, 1)
	return corruptValue{faultValue: base, Modes: modes}
}

func (corruptFault) check(raw json.RawMessage, names []string) error {
	var v corruptValue
	if err := checkTargeted(raw, &v, &v.faultValue, names); err != nil {
		return err
	}
	if len(v.Modes) == 0 {
		return fmt.Errorf("modes: want some of %v", fault.CorruptModes)
	}
	for _, m := range v.Modes {
		if !slices.Contains(fault.CorruptModes, m) {
			return fmt.Errorf("mode %q: want some of %v", m, fault.CorruptModes)
		}
	}
	if slices.Contains(v.Modes, fault.BitflipWAL) || slices.Contains(v.Modes, fault.BitflipSnap) {
		if !(v.Probability > 0 && v.Probability <= 0.01) {
			return fmt.Errorf("probability %v: want above 0 and at most 0.01", v.Probability)
		}
	}
	return nil
}

// diskOf returns c's disk powers, or a refusal.
func diskOf(c harness.Cluster) (harness.Disk, error) {
	d, ok := c.(harness.Disk)
	if !ok {
		return nil, refuse("this cluster cannot reach its nodes' files (it is no harness.Disk)")
	}
	return d, nil
}

// start kills each target and damages its files. It refuses a choice of
// half the nodes or more: damage on a majority can lose what the cluster
// acknowledged without any bug.
func (corruptFault) start(ctx context.Context, m *Nemesis, c harness.Cluster, op harness.Op) (any, error) {
	d, err := diskOf(c)
	if err != nil {
		return nil, err
	}
	var v corruptValue
	if err := op.DecodeValue(&v); err != nil {
		return nil, refusal{err}
	}
	nodes, err := chooseNodes(ctx, c, v.faultValue)
	if err != nil {
		return nil, err
	}
	if 2*(len(nodes)+len(m.corrupted)) >= len(c.Nodes()) {
		return nil, refuse("damage on %d of %d nodes leaves no intact majority", len(nodes)+len(m.corrupted), len(c.Nodes()))
	}
	for _, name := range nodes {
		if why := m.downBecause(name); why != "" {
			return nil, refuse("%s is %s", name, why)
		}
	}
	r := rand.New(rand.NewSource(v.Seed))
	effect := CorruptEffect{Nodes: nodes, Damage: map[string]Damage{}}
	for _, name := range nodes {
		n, _ := harness.NodeByName(c.Nodes(), name)
		m.corrupted[name] = true
		if err := c.Kill(ctx, n); err != nil {
			return effect, err
		}
		dmg, err := damage(ctx, d, n, v.Modes[r.Intn(len(v.Modes))], v.Probability, r)
		effect.Damage[name] = dmg
		if err != nil {
			return effect, err
		}
	}
	return effect, nil
}

// damage damages one file of n's as mode says. A bitflip of the snapshot
// files, when the node has none yet, flips bits of a WAL file instead.
func damage(ctx context.Context, d harness.Disk, n harness.Node, mode string, p float64, r *rand.Rand) (Damage, error) {
	dmg := Damage{Mode: mode}
	kind := harness.WALFiles
	if mode == fault.BitflipSnap {
		kind = harness.SnapFiles
	}
	files, err := d.DataFiles(ctx, n, kind)
	if err != nil {
		return dmg, err
	}
	if len(files) == 0 && mode == fault.BitflipSnap {
		dmg.Mode, dmg.Note = fault.BitflipWAL, "no snapshot file yet: a WAL file instead"
		if files, err = d.DataFiles(ctx, n, harness.WALFiles); err != nil {
			return dmg, err
		}
	}
	if len(files) == 0 {
		dmg.Note = "no " + kind + " file to damage"
		return dmg, nil
	}
	file := files[len(files)-1] // the last WAL segment, the newest snapshot
	if mode != fault.TruncateWAL {
		file = files[r.Intn(len(files))]
	}
	data, err := d.ReadFile(ctx, n, file)
	if err != nil {
		return dmg, err
	}
	dmg.File, dmg.Size = file, len(data)
	if dmg.Mode == fault.TruncateWAL {
		data, dmg.Cut = truncateWritten(data, 1+r.Intn(1024))
	} else {
		dmg.Flips = bitflip(data, p, r)
	}
	if err := d.WriteFile(ctx, n, file, data); err != nil {
		return dmg, fmt.Errorf("damage %s: %w", path.Base(file), err)
	}
	return dmg, nil
}

// bitflip flips one random bit of each byte of data with chance p, and
// returns how many it flipped. The gaps between flipped bytes are drawn
// from the geometric distribution, so a large file costs as many draws as
// flips.
func bitflip(data []byte, p float64, r *rand.Rand) int {
	if p <= 0 {
		return 0
	}
	flips := 0
	for i := -1; ; {
		// The number of bytes up to and including the next flip.
		gap := 1 + int(math.Floor(math.Log(1-r.Float64())/math.Log1p(-p)))
		if gap <= 0 || gap > len(data)-i-1 {
			return flips
		}
		i += gap
		data[i] ^= 1 << r.Intn(8)
		flips++
	}
}

// truncateWritten cuts up to cut bytes off the end of what data holds
// before its zero padding (a WAL segment is preallocated with zeros), as a
// write torn by a power loss would, and returns what remains and how many
// bytes it took.
func truncateWritten(data []byte, cut int) ([]byte, int) {
	written := len(data)
	for written > 0 && data[written-1] == 0 {
		written--
	}
	cut = min(cut, written)
	return data[:written-cut], cut
}

// stop starts each damaged node again; one whose store refuses its files
// is replaced by a wiped member.
func (corruptFault) stop(ctx context.Context, m *Nemesis, c harness.Cluster, _ harness.Op) (any, error) {
	return m.restartCorrupted(ctx, c)
}

// restartCorrupted starts every node the corrupt kind left down. A node
// whose store refuses to start on its damaged files is removed from the
// raft group, wiped and added back, so that the cluster is whole again.
func (m *Nemesis) restartCorrupted(ctx context.Context, c harness.Cluster) (CorruptEffect, error) {
	targets := sortedKeys(m.corrupted)
	effect := CorruptEffect{Nodes: targets}
	if len(targets) == 0 {
		return effect, nil
	}
	d, ok := c.(harness.Disk)
	if !ok {
		return effect, errors.New("restart corrupted: this cluster cannot reach its nodes' files, yet some are damaged")
	}
	var errs []error
	for _, name := range targets {
		n, _ := harness.NodeByName(c.Nodes(), name)
		refused, err := d.StartDamaged(ctx, n, damagedStart)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if refused != "" {
			if effect.Refused == nil {
				effect.Refused = map[string]string{}
			}
			effect.Refused[name] = refused
			if err := m.replace(ctx, c, n); err != nil {
				errs = append(errs, fmt.Errorf("replace %s, whose store refused its damaged files: %w", name, err))
				continue
			}
			effect.Replaced = append(effect.Replaced, name)
		}
		delete(m.corrupted, name)
	}
	return effect, errors.Join(errs...)
}

// replace removes n from the raft group, wipes it and adds it back.
func (m *Nemesis) replace(ctx context.Context, c harness.Cluster, n harness.Node) error {
	ms, err := membershipOf(c)
	if err != nil {
		return err
	}
	if _, err := ms.RemoveMember(ctx, n); err != nil {
		return err
	}
	_, err = ms.AddMember(ctx, n)
	return err
}

package kvnode

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/fileutil"
	"go.etcd.io/etcd/server/v3/etcdserver/api/snap"
	"go.etcd.io/etcd/server/v3/storage/wal"
	"go.etcd.io/etcd/server/v3/storage/wal/walpb"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
)

// Files kept by the background purge, and how often it looks, as in etcd.
const (
	maxKeptFiles  = 5
	purgeInterval = 30 * time.Second
)

// walMetadata is written once, when the WAL is created, and identifies the
// member the log belongs to.
type walMetadata struct {
	MemberID  uint64 `json:"member_id"`
	ClusterID uint64 `json:"cluster_id"`
}

// diskStorage is the durable half of raft storage: etcd's WAL holds entries
// and hard states, etcd's snapshotter holds snapshots. raft.MemoryStorage is
// the in-memory half; the raft loop keeps both in step.
type diskStorage struct {
	lg          *zap.Logger
	walDir      string
	snapDir     string
	wal         *wal.WAL
	snapshotter *snap.Snapshotter
}

// recoveredState is what a restarting node reads back from disk.
type recoveredState struct {
	meta      walMetadata
	snapshot  *raftpb.Snapshot // nil when no snapshot was taken yet
	hardState *raftpb.HardState
	entries   []*raftpb.Entry
}

func memberDir(dataDir string) string { return filepath.Join(dataDir, "member") }

// hasDurableState reports whether dataDir holds a WAL from an earlier run.
func hasDurableState(dataDir string) bool {
	return wal.Exist(filepath.Join(memberDir(dataDir), "wal"))
}

// wipeDurableState deletes the WAL and snapshots (the lost-restart bug).
func wipeDurableState(dataDir string) error {
	if err := os.RemoveAll(memberDir(dataDir)); err != nil {
		return fmt.Errorf("wipe %s: %w", memberDir(dataDir), err)
	}
	return nil
}

func newDiskStorage(lg *zap.Logger, dataDir string) (*diskStorage, error) {
	d := &diskStorage{
		lg:      lg,
		walDir:  filepath.Join(memberDir(dataDir), "wal"),
		snapDir: filepath.Join(memberDir(dataDir), "snap"),
	}
	if err := fileutil.TouchDirAll(lg, d.snapDir); err != nil {
		return nil, fmt.Errorf("create snapshot dir: %w", err)
	}
	d.snapshotter = snap.New(lg, d.snapDir)
	return d, nil
}

// createDiskStorage starts an empty WAL for a member that has never run.
func createDiskStorage(lg *zap.Logger, dataDir string, meta walMetadata) (*diskStorage, error) {
	d, err := newDiskStorage(lg, dataDir)
	if err != nil {
		return nil, err
	}
	metaBytes, err := json.Marshal(meta)
	if err != nil {
		return nil, fmt.Errorf("marshal wal metadata: %w", err)
	}
	if d.wal, err = wal.Create(lg, d.walDir, metaBytes); err != nil {
		return nil, fmt.Errorf("create wal: %w", err)
	}
	return d, nil
}

// openDiskStorage reopens the WAL of an earlier run at its newest usable
// snapshot and reads everything after it. A record torn by a crash at the
// tail of the WAL is cut off, as etcd does.
func openDiskStorage(lg *zap.Logger, dataDir string) (*diskStorage, *recoveredState, error) {
	d, err := newDiskStorage(lg, dataDir)
	if err != nil {
		return nil, nil, err
	}
	walSnaps, err := wal.ValidSnapshotEntries(lg, d.walDir)
	if err != nil {
		return nil, nil, fmt.Errorf("list wal snapshots: %w", err)
	}
	snapshot, err := d.snapshotter.LoadNewestAvailable(walSnaps)
	if err != nil && !errors.Is(err, snap.ErrNoSnapshot) {
		return nil, nil, fmt.Errorf("load snapshot: %w", err)
	}
	start := &walpb.Snapshot{}
	if snapshot != nil {
		start = &walpb.Snapshot{
			Index:     new(snapshot.GetMetadata().GetIndex()),
			Term:      new(snapshot.GetMetadata().GetTerm()),
			ConfState: snapshot.GetMetadata().GetConfState(),
		}
	}

	rec := &recoveredState{snapshot: snapshot}
	for repaired := false; ; repaired = true {
		if d.wal, err = wal.Open(lg, d.walDir, start); err != nil {
			return nil, nil, fmt.Errorf("open wal: %w", err)
		}
		var metaBytes []byte
		metaBytes, rec.hardState, rec.entries, err = d.wal.ReadAll()
		if err == nil {
			if err := json.Unmarshal(metaBytes, &rec.meta); err != nil {
				d.wal.Close()
				return nil, nil, fmt.Errorf("read wal metadata: %w", err)
			}
			return d, rec, nil
		}
		d.wal.Close()
		if repaired || !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, nil, fmt.Errorf("read wal: %w", err)
		}
		lg.Warn("wal ends in a torn record; repairing", zap.Error(err))
		if !wal.Repair(lg, d.walDir) {
			return nil, nil, fmt.Errorf("repair wal: %w", err)
		}
	}
}

// save appends entries and the hard state, fsyncing when raft requires it
// (the WAL decides with raft.MustSync, as Ready.MustSync does).
func (d *diskStorage) save(hs *raftpb.HardState, entries []*raftpb.Entry) error {
	if err := d.wal.Save(hs, entries); err != nil {
		return fmt.Errorf("save to wal: %w", err)
	}
	return nil
}

// saveSnapshot writes the snapshot file, then records it in the WAL, which
// syncs. The order leaves at worst an orphan snapshot file, never a WAL
// record pointing at a missing snapshot.
func (d *diskStorage) saveSnapshot(s *raftpb.Snapshot) error {
	if err := d.snapshotter.SaveSnap(s); err != nil {
		return fmt.Errorf("save snapshot file: %w", err)
	}
	walSnap := &walpb.Snapshot{
		Index:     new(s.GetMetadata().GetIndex()),
		Term:      new(s.GetMetadata().GetTerm()),
		ConfState: s.GetMetadata().GetConfState(),
	}
	if err := d.wal.SaveSnapshot(walSnap); err != nil {
		return fmt.Errorf("record snapshot in wal: %w", err)
	}
	return nil
}

// releaseTo lets the purge remove WAL files older than index.
func (d *diskStorage) releaseTo(index uint64) error {
	if err := d.wal.ReleaseLockTo(index); err != nil {
		return fmt.Errorf("release wal to %d: %w", index, err)
	}
	return nil
}

// purgeOldFiles keeps the newest maxKeptFiles snapshots and released WAL
// files, until stop is closed.
func (d *diskStorage) purgeOldFiles(stop <-chan struct{}) {
	snapErrs := fileutil.PurgeFile(d.lg, d.snapDir, "snap", maxKeptFiles, purgeInterval, stop)
	walErrs := fileutil.PurgeFile(d.lg, d.walDir, "wal", maxKeptFiles, purgeInterval, stop)
	go func() {
		select {
		case err := <-snapErrs:
			d.lg.Warn("purging old snapshots failed", zap.Error(err))
		case err := <-walErrs:
			d.lg.Warn("purging old wal files failed", zap.Error(err))
		case <-stop:
		}
	}()
}

func (d *diskStorage) close() error {
	if err := d.wal.Close(); err != nil {
		return fmt.Errorf("close wal: %w", err)
	}
	return nil
}

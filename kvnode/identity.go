package kvnode

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"go.etcd.io/etcd/client/pkg/v3/fileutil"
)

// identityFile is where a member records how it first entered the cluster,
// in the data directory but outside member/, the directory that holds the
// WAL and snapshots.
const identityFile = "identity.json"

// memberIdentity is how a member first entered the cluster. A correct node
// never reads it back: its WAL holds its IDs, and a WAL is never lost.
//
// It exists for BugLostRestart, which models a node whose raft state (log,
// hard state, snapshots) lives on storage that does not survive a crash,
// while its identity and configuration do: the node must come back as the
// same member, entering the cluster the way it first did. A founding member
// bootstraps the initial cluster again (term 1, no vote, only the initial
// configuration in its log), which is what etcd does when a member's data
// directory is lost and it is restarted with its original command line. A
// member that joined a running cluster joins it again.
type memberIdentity struct {
	MemberID  uint64 `json:"member_id"`
	ClusterID uint64 `json:"cluster_id"`
	// Founder is true for a member of the initial cluster, false for one
	// that joined a running cluster.
	Founder bool `json:"founder"`
}

func identityPath(dataDir string) string { return filepath.Join(dataDir, identityFile) }

// writeIdentity records id durably: the file is written, synced and then
// renamed into place, so a crash leaves the old record or the new one.
func writeIdentity(dataDir string, id memberIdentity) error {
	data, err := json.Marshal(id)
	if err != nil {
		return fmt.Errorf("encode member identity: %w", err)
	}
	tmp := identityPath(dataDir) + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, fileutil.PrivateFileMode)
	if err != nil {
		return fmt.Errorf("write member identity: %w", err)
	}
	_, werr := f.Write(data)
	serr := fileutil.Fsync(f)
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("write member identity: %w", err)
	}
	if err := os.Rename(tmp, identityPath(dataDir)); err != nil {
		return fmt.Errorf("write member identity: %w", err)
	}
	return nil
}

// readIdentity returns the recorded identity; found is false when the
// member never recorded one.
func readIdentity(dataDir string) (id memberIdentity, found bool, err error) {
	data, err := os.ReadFile(identityPath(dataDir))
	if errors.Is(err, fs.ErrNotExist) {
		return id, false, nil
	}
	if err != nil {
		return id, false, fmt.Errorf("read member identity: %w", err)
	}
	if err := json.Unmarshal(data, &id); err != nil {
		return id, false, fmt.Errorf("decode member identity %s: %w", identityPath(dataDir), err)
	}
	return id, true, nil
}

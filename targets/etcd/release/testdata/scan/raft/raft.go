// Package raft is a fixture of ScanFailpoints: gofail comments as etcd's
// server has them.
package raft

func save() error {
	// gofail: var raftBeforeSave struct{}
	if err := write(); err != nil {
		return err
	}
	// gofail: var raftAfterSave struct{}
	return nil
}

func send() {
	// gofail: labelRaftDropHeartbeat:
	for {
		// gofail: var raftDropHeartbeat struct{}
		// continue labelRaftDropHeartbeat
		break
	}
}

func write() error { return nil }

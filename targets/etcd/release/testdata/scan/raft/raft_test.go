package raft

import "testing"

func TestSave(t *testing.T) {
	// gofail: var notInTheBinary struct{}
	if err := save(); err != nil {
		t.Fatal(err)
	}
}

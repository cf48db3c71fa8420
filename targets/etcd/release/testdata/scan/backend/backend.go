// Package backend is a fixture of ScanFailpoints.
package backend

func defrag() {
	// gofail: var defragBeforeCopy struct{}
	copyAll()
	// gofail: var defragBeforeRename struct{}
}

func copyAll() {}

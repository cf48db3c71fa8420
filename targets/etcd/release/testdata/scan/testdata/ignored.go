// Package testdata is not compiled, so its failpoints are not counted.
package testdata

func f() {
	// gofail: var inTestdata struct{}
}

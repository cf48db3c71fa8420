package watch

import (
	"testing"

	"github.com/faultline/faultline/checker/fixture"
)

// TestFixtures: histories that hold every guarantee are valid; each
// history that breaks one guarantee is flagged with it, and only it,
// with its first violation; and one whose final watches never completed
// is unknown.
func TestFixtures(t *testing.T) {
	fixture.Run(t, "testdata/*.txt", Checker{})
}

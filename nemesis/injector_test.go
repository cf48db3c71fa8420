package nemesis

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/faultline/faultline/fault"
)

// TestEveryKindHasAnInjector: the registry and the injectors describe the
// same kinds, so a kind added to fault.All without its injector (or the
// other way round) fails here, not in a live run.
func TestEveryKindHasAnInjector(t *testing.T) {
	for _, k := range fault.All {
		_, ok := injectors[k.Name]
		assert.True(t, ok, "fault kind %s has no injector", k.Name)
	}
	assert.Len(t, injectors, len(fault.All), "an injector without a kind in fault.All")
}

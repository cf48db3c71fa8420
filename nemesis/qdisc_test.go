package nemesis

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQdiscs(t *testing.T) {
	assert.Equal(t, "tbf rate 1000000bit burst 15000 latency 200ms", tbfQdisc(1e6))
	assert.Equal(t, "tbf rate 1000000000bit burst 1250000 latency 200ms", tbfQdisc(1e9), "the bucket holds 10 ms at high rates")
	assert.Equal(t, "netem delay 50000us", netemQdisc(50*time.Millisecond))
}

// probeOutput is what the probe printed on the machine this was written
// on: a kernel without netem.
const probeOutput = `netem missing: Error: Specified qdisc kind is unknown.
tbf ok
statistic ok
`

func TestKernelProbeAndCheck(t *testing.T) {
	k, err := parseProbe(probeOutput)
	require.NoError(t, err)
	assert.True(t, k.TBF)
	assert.True(t, k.Statistic)
	assert.False(t, k.Netem)
	assert.NoError(t, k.Check([]string{"partition", "loss", "bandwidth"}))
	err = k.Check([]string{"loss", "delay"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "fault delay needs tc's netem qdisc")
	assert.Contains(t, err.Error(), "Specified qdisc kind is unknown")
	assert.Contains(t, err.Error(), "this kernel offers loss and bandwidth")
	assert.Equal(t, "iptables statistic yes, tc tbf yes, tc netem no (Error: Specified qdisc kind is unknown.)", k.String())

	_, err = parseProbe("sh: 1: tc: not found\n")
	assert.Error(t, err, "output without every verdict is no answer")
}

func TestQdiscScript(t *testing.T) {
	set := qdiscScript("10.0.0.2", tbfQdisc(1e6))
	assert.Contains(t, set, "a[1] == ip")
	assert.Contains(t, set, "-v ip=10.0.0.2")
	assert.Contains(t, set, `tc qdisc replace dev "$dev" root tbf rate 1000000bit`)
	clear := qdiscScript("10.0.0.2", "")
	assert.NotContains(t, clear, "replace")
	assert.Contains(t, clear, "grep -qE '^qdisc (tbf|netem) '", "only the harness's own qdiscs are removed")
	assert.Contains(t, clear, `tc qdisc del dev "$dev" root`)
}

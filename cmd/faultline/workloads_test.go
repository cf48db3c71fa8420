package main

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faultline/faultline/harness"
)

// TestWorkloadFlags: the workload flags land in the spec, and what a
// target cannot serve or a flag does not allow is bad input naming the
// flag.
func TestWorkloadFlags(t *testing.T) {
	s, err := specOf(t, "--workload", "set", "--set-mode", "append")
	require.NoError(t, err)
	assert.Equal(t, "append", s.WorkloadOptions["set-mode"])
	s, err = specOf(t, "--workload", "lock-etcd-set", "--lock-ttl", "5")
	require.NoError(t, err)
	assert.Equal(t, "5", s.WorkloadOptions["lock-ttl"])
	s, err = specOf(t, "--workload", "lock-set")
	require.NoError(t, err)
	assert.Equal(t, "2", s.WorkloadOptions["lock-ttl"], "the default TTL")
	assert.NotContains(t, s.WorkloadOptions, "set-mode", "another workload's options are not stored")
	for _, w := range []string{"bank", "watch", "lock-set", "lock-etcd-set"} {
		_, err = specOf(t, "--target", "kvnode", "--workload", w)
		require.NoError(t, err, "kvnode serves %s", w)
	}

	for _, bad := range []struct {
		args []string
		flag string
		msg  string
	}{
		{[]string{"--workload", "set", "--set-mode", "tree"}, "set-mode", "keys, append"},
		{[]string{"--workload", "lock-set", "--lock-ttl", "0"}, "lock-ttl", "whole number"},
		{[]string{"--workload", "watch", "--concurrency", "1"}, "concurrency", "at least 2"},
	} {
		_, err := specOf(t, bad.args...)
		var fe *harness.FlagError
		require.True(t, errors.As(err, &fe), "%v: %v", bad.args, err)
		assert.Equal(t, bad.flag, fe.Flag, bad.args)
		assert.Contains(t, fe.Msg, bad.msg, bad.args)
	}
}

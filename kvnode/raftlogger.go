package kvnode

import "go.uber.org/zap"

// raftLogger adapts a zap logger to raft.Logger, which names its warning
// level Warning where zap says Warn.
type raftLogger struct {
	*zap.SugaredLogger
}

// Warning logs at warn level.
func (l raftLogger) Warning(args ...any) { l.Warn(args...) }

// Warningf logs at warn level.
func (l raftLogger) Warningf(format string, args ...any) { l.Warnf(format, args...) }

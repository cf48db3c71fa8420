// Command kvnode runs one member of a kvnode cluster: a raft key-value store
// serving etcd's v3 gRPC API, for faultline to test. Its flags mirror etcd's,
// so one command line fits both:
//
//	kvnode --name n1 --data-dir /var/lib/kvnode \
//	  --listen-client-urls http://0.0.0.0:2379 --advertise-client-urls http://10.0.0.2:2379 \
//	  --listen-peer-urls http://0.0.0.0:2380 --initial-advertise-peer-urls http://10.0.0.2:2380 \
//	  --initial-cluster n1=http://10.0.0.2:2380,n2=http://10.0.0.3:2380,n3=http://10.0.0.4:2380 \
//	  --initial-cluster-state new --initial-cluster-token faultline \
//	  --heartbeat-interval 100 --election-timeout 1000 --snapshot-count 10000 [--bug stale-read]
//
// Logs are JSON lines on stderr. Exit codes: 0 after SIGINT/SIGTERM or after
// the member was removed from the cluster, 1 when the node fails to start or
// stops on a fatal error, 254 for bad flags.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/faultline/faultline/kvnode"
)

// exitBadInput is faultline's exit code for invalid input.
const exitBadInput = 254

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// run is main without the process exit, so tests can call it.
func run(args []string, stderr io.Writer) int {
	cfg, err := kvnode.ParseFlags(args, stderr)
	if errors.Is(err, kvnode.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "kvnode: %v\n", err)
		return exitBadInput
	}
	lg := newLogger(stderr)
	defer lg.Sync()
	cfg.Logger = lg

	srv, err := kvnode.Start(cfg)
	if err != nil {
		lg.Error("kvnode failed to start", zap.Error(err))
		return 1
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(signals)

	select {
	case sig := <-signals:
		lg.Info("received signal; stopping", zap.String("signal", sig.String()))
		srv.Stop()
		return 0
	case <-srv.Done():
		if err := srv.Err(); err != nil && !errors.Is(err, kvnode.ErrRemoved) {
			return 1
		}
		return 0
	}
}

// newLogger writes JSON lines at info level, as etcd does.
func newLogger(w io.Writer) *zap.Logger {
	encoderCfg := zap.NewProductionEncoderConfig()
	encoderCfg.EncodeTime = zapcore.ISO8601TimeEncoder
	core := zapcore.NewCore(zapcore.NewJSONEncoder(encoderCfg), zapcore.Lock(zapcore.AddSync(w)), zap.InfoLevel)
	return zap.New(core, zap.AddCaller())
}

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/faultline/faultline/harness"
)

// serveCommand runs the web UI over a run store until SIGINT or SIGTERM:
// an index of runs, each run's summary, plots and files, and the
// comparison tables. It serves only what is inside the store.
func serveCommand(args []string) (int, error) {
	fs := newFlagSet("serve", "serve [--addr 127.0.0.1:8080] [--store store]")
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on; port 0 picks a free port (the address is printed)")
	store := fs.String("store", "store", "run store directory to serve")
	if err := parseFlags(fs, args); err != nil {
		return 0, err
	}
	if fs.NArg() > 0 {
		return 0, badInput{fmt.Errorf("unexpected argument %q: faultline serve takes only flags (see --help)", fs.Arg(0))}
	}
	listen, err := loopbackUnlessNamed(*addr)
	if err != nil {
		return 0, err
	}
	root, err := os.OpenRoot(*store)
	if err != nil {
		return 0, badInput{fmt.Errorf("--store: %w", err)}
	}
	defer root.Close()
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return 0, badInput{fmt.Errorf("--addr: %w", err)}
	}
	srv := &http.Server{Handler: newServer(root, *store).routes(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("serving %s at http://%s/\n", *store, ln.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return 0, fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return 0, fmt.Errorf("serve: shut down: %w", err)
	}
	return 0, nil
}

// loopbackUnlessNamed reads --addr: host:port, where an empty host means
// loopback (127.0.0.1), never every interface: the store holds node logs
// and test data that are nobody else's business unless one says so.
func loopbackUnlessNamed(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return "", harness.BadValue("addr", addr, "want host:port, such as 127.0.0.1:8080 or :0 (a free port on loopback)")
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", harness.BadValue("addr", addr, "want a port from 0 to 65535")
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

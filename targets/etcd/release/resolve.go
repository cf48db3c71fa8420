package release

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Resolve turns a --target-version value into a release: it checks the
// form (ParseVersion) and then that the Go module proxy serves etcd's
// server at that version, which also puts its sources in the module
// cache. A release the proxy does not have is refused with an error that
// names it and says what is allowed. Resolve leaves no file behind but the
// module cache's.
func Resolve(ctx context.Context, s string) (Version, error) {
	v, _, err := resolve(ctx, s)
	return v, err
}

// resolve is Resolve that also returns the read-only module cache
// directory of the release's server sources.
func resolve(ctx context.Context, s string) (Version, string, error) {
	v, err := ParseVersion(s)
	if err != nil {
		return Version{}, "", fmt.Errorf("%w (%w)", err, ErrNoRelease)
	}
	dir, err := downloadRelease(ctx, v)
	if err != nil {
		return Version{}, "", refusal(v, err)
	}
	return v, dir, nil
}

// unreachable are the go command's words for a proxy it could not talk to
// (or no go command, or no proxy: GOPROXY=off), as opposed to one that has
// no such version.
var unreachable = []string{"lookup disabled", "dial tcp", "no such host", "connection refused", "i/o timeout", "TLS handshake", "network is unreachable", "not on PATH"}

// ErrNoRelease marks the error of a version that is no etcd release the
// proxy serves, or not of the form one is: bad input, not a failure of
// the machine.
var ErrNoRelease = errors.New("no such etcd release")

// refusal words the error of a release the proxy did not give.
func refusal(v Version, err error) error {
	msg := err.Error()
	for _, u := range unreachable {
		if strings.Contains(msg, u) {
			return fmt.Errorf("etcd version %s: cannot ask the Go module proxy whether it exists: %w", v, err)
		}
	}
	return fmt.Errorf("etcd version %s: the Go module proxy does not serve %s@%s, so it is no etcd release it can build; want %s, e.g. one of %s: %w (%w)",
		v, ServerModule, v, allowed, strings.Join(Pinned, " "), ErrNoRelease, err)
}

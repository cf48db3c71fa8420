package release

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
)

// ServerModule is the module etcd's server, and its main package, live in.
const ServerModule = "go.etcd.io/etcd/server/v3"

// download is what go mod download -json says of one module.
type download struct {
	Path, Version, Dir, Sum, Error string
}

// downloadModule runs go mod download -json on arg (a module path, or
// path@version) in dir and returns what it reports. The go command's own
// message is the error when it could not have the module.
func downloadModule(ctx context.Context, dir, arg string) (download, error) {
	out, runErr := goCommand(ctx, dir, nil, "mod", "download", "-json", arg)
	var d download
	if err := json.Unmarshal(out, &d); err != nil {
		if runErr != nil {
			return download{}, runErr
		}
		return download{}, fmt.Errorf("go mod download %s: %w", arg, err)
	}
	if d.Error != "" {
		return d, fmt.Errorf("%s", d.Error)
	}
	if runErr != nil {
		return d, runErr
	}
	if d.Dir == "" {
		return d, fmt.Errorf("go mod download %s: no directory reported", arg)
	}
	return d, nil
}

// downloadRelease fetches the server sources of v into the module cache
// from outside any module (a scratch directory it removes again) and
// returns the read-only directory they are in.
func downloadRelease(ctx context.Context, v Version) (string, error) {
	scratch, err := os.MkdirTemp("", "faultline-etcd-resolve-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(scratch)
	d, err := downloadModule(ctx, scratch, ServerModule+"@"+v.String())
	if err != nil {
		return "", err
	}
	return d.Dir, nil
}

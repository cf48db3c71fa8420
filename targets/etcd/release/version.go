package release

import (
	"fmt"
	"regexp"
	"strconv"
)

// MinVersion is the oldest etcd release this package builds.
var MinVersion = Version{Major: 3, Minor: 5, Patch: 0}

// Version is an etcd release, vMajor.Minor.Patch. Pre-releases are not
// versions here.
type Version struct {
	Major, Minor, Patch int
}

// String renders v as the module proxy and --target-version spell it,
// "v3.5.2".
func (v Version) String() string {
	return fmt.Sprintf("v%d.%d.%d", v.Major, v.Minor, v.Patch)
}

// Less reports whether v is an older release than w.
func (v Version) Less(w Version) bool {
	if v.Major != w.Major {
		return v.Major < w.Major
	}
	if v.Minor != w.Minor {
		return v.Minor < w.Minor
	}
	return v.Patch < w.Patch
}

// allowed says which versions are accepted, for error messages.
const allowed = "an etcd release v3.5.0 or later, written vX.Y.Z (v3.5.x, v3.6.x, v3.7.x, ...)"

var versionForm = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)

// ParseVersion checks the form of s, "vX.Y.Z" with X = 3 and at least
// MinVersion, without asking the module proxy whether it exists (Resolve
// does).
func ParseVersion(s string) (Version, error) {
	m := versionForm.FindStringSubmatch(s)
	if m == nil {
		return Version{}, fmt.Errorf("etcd version %q: not of the form vX.Y.Z; want %s", s, allowed)
	}
	var v Version
	for i, p := range []*int{&v.Major, &v.Minor, &v.Patch} {
		n, err := strconv.Atoi(m[i+1])
		if err != nil {
			return Version{}, fmt.Errorf("etcd version %q: %w", s, err)
		}
		*p = n
	}
	switch {
	case v.Major != 3:
		return Version{}, fmt.Errorf("etcd version %s: major version %d is not built here (its server is not go.etcd.io/etcd/server/v3); want %s", s, v.Major, allowed)
	case v.Less(MinVersion):
		return Version{}, fmt.Errorf("etcd version %s: older than %s, the oldest release faultline builds; want %s", s, MinVersion, allowed)
	}
	return v, nil
}

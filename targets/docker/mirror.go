package docker

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// HostMirror returns the Debian mirror the host's apt uses for suite,
// read from /etc/apt/sources.list and the *.list and *.sources files in
// /etc/apt/sources.list.d, or DefaultMirror when none names suite. Using
// the host's mirror matters where only that mirror is reachable.
func HostMirror(suite string) string {
	return mirrorFrom("/etc/apt", suite)
}

func mirrorFrom(aptDir, suite string) string {
	if b, err := os.ReadFile(filepath.Join(aptDir, "sources.list")); err == nil {
		if m, ok := oneLineMirror(b, suite); ok {
			return m
		}
	}
	parts, _ := filepath.Glob(filepath.Join(aptDir, "sources.list.d", "*"))
	slices.Sort(parts)
	for _, p := range parts {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var m string
		var ok bool
		switch {
		case strings.HasSuffix(p, ".list"):
			m, ok = oneLineMirror(b, suite)
		case strings.HasSuffix(p, ".sources"):
			m, ok = deb822Mirror(b, suite)
		}
		if ok {
			return m
		}
	}
	return DefaultMirror
}

// oneLineMirror reads the classic format:
// deb [option=value ...] uri suite component...
func oneLineMirror(b []byte, suite string) (string, bool) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if i := strings.IndexByte(line, '['); i >= 0 {
			if j := strings.IndexByte(line[i:], ']'); j >= 0 {
				line = line[:i] + line[i+j+1:]
			}
		}
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == "deb" && f[2] == suite {
			return strings.TrimRight(f[1], "/"), true
		}
	}
	return "", false
}

// deb822Mirror reads the stanza format of *.sources files: stanzas of
// "Key: value" lines separated by blank lines.
func deb822Mirror(b []byte, suite string) (string, bool) {
	for _, stanza := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n\n") {
		fields := map[string][]string{}
		for _, line := range strings.Split(stanza, "\n") {
			if strings.HasPrefix(line, "#") || strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t") {
				continue
			}
			key, value, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			fields[strings.ToLower(strings.TrimSpace(key))] = strings.Fields(value)
		}
		if len(fields["uris"]) == 0 ||
			!slices.Contains(fields["types"], "deb") ||
			!slices.Contains(fields["suites"], suite) ||
			slices.Contains(fields["enabled"], "no") {
			continue
		}
		return strings.TrimRight(fields["uris"][0], "/"), true
	}
	return "", false
}

package docker

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// skipInRootfs says which paths of a debootstrap tree stay out of the
// image: the contents of the pseudo filesystems Docker mounts over anyway,
// and apt's downloads, which only make the image bigger.
func skipInRootfs(rel string, isDir bool) bool {
	for _, dir := range []string{"dev/", "proc/", "sys/", "var/cache/apt/archives/", "var/lib/apt/lists/"} {
		if strings.HasPrefix(rel, dir) && !(isDir && strings.HasSuffix(rel, "/partial")) {
			return true
		}
	}
	return false
}

// writeRootfsTar writes the tree at root to w as a tar stream with paths
// relative to root, keeping owners, modes, symlinks and hard links.
func writeRootfsTar(w io.Writer, root string) error {
	tw := tar.NewWriter(w)
	type inode struct{ dev, ino uint64 }
	seen := map[inode]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if skipInRootfs(rel, d.IsDir()) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		var link string
		if fi.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(path); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		hdr.Name = rel
		if fi.IsDir() {
			hdr.Name += "/"
		}
		// Owners are numeric inside the image; the host's names for them
		// mean nothing there.
		hdr.Uname, hdr.Gname = "", ""
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && fi.Mode().IsRegular() && st.Nlink > 1 {
			key := inode{uint64(st.Dev), st.Ino}
			if first, ok := seen[key]; ok {
				hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			} else {
				seen[key] = rel
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil
		}
		return copyFileTo(tw, path)
	})
	if err != nil {
		return fmt.Errorf("tar %s: %w", root, err)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("tar %s: %w", root, err)
	}
	return nil
}

func copyFileTo(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// contextFile is one executable of a build context.
type contextFile struct {
	name string
	body []byte
}

// buildContext is an in-memory tar of a Dockerfile and one executable,
// the whole context of a target image's build.
func buildContext(dockerfile string, name string, binary []byte) (*bytes.Buffer, error) {
	return buildContextOf(dockerfile, []contextFile{{name, binary}})
}

// buildContextOf is an in-memory tar of a Dockerfile and executables.
func buildContextOf(dockerfile string, binaries []contextFile) (*bytes.Buffer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	files := []struct {
		name string
		mode int64
		body []byte
	}{{"Dockerfile", 0o644, []byte(dockerfile)}}
	for _, b := range binaries {
		files = append(files, struct {
			name string
			mode int64
			body []byte
		}{b.name, 0o755, b.body})
	}
	for _, f := range files {
		hdr := &tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.body)), ModTime: now, Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("build context %s: %w", f.name, err)
		}
		if _, err := tw.Write(f.body); err != nil {
			return nil, fmt.Errorf("build context %s: %w", f.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("build context: %w", err)
	}
	return &buf, nil
}

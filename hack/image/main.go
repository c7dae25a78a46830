// Command oaat-image builds the operator's OCI image archive from directories, reproducibly, and
// unpacks such an archive into a root filesystem. It needs no container engine. hack/tools.sh
// builds it (`hack/tools.sh image-path`); hack/image.sh (`make image`) and the e2e setup use it.
//
//	oaat-image build -out FILE -ref NAME:TAG -epoch SECONDS -config FILE [-attr PATH=MODE[:UID:GID]]... -layer NAME=DIR...
//	oaat-image unpack ARCHIVE ROOTFS
//
// build makes one layer per -layer, in order: every file, directory and symlink under DIR, at
// the same path under /. Entries are sorted, owned by 0:0, mtime = -epoch, modes normalized
// (directories 0755, files 0755 when any execute bit is set, else 0644) unless an -attr names
// the path. Layers are gzip-compressed (Go's compress/gzip, no name, no time), so the same
// inputs give the same bytes. -config is the JSON of the OCI config's "config" object (user,
// env, entrypoint, labels...). The archive is an OCI image layout in a tar (oci-layout,
// index.json with the image name in org.opencontainers.image.ref.name and
// io.containerd.image.name, blobs/sha256/...) that also carries a docker-style manifest.json
// (RepoTags [NAME:TAG]) for `docker load` of engines that read only that. stdout: the image's
// manifest digest.
//
// unpack checks the archive (every blob against its digest; index.json and manifest.json name
// the same config and layers), applies the layers in order into ROOTFS (created, must be empty),
// honouring whiteouts, with the archive's owners and modes (so run it as root), and prints a
// JSON object {"digest": manifest digest, "config": the image's config file} on stdout.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func main() {
	if len(os.Args) < 2 {
		fail(errors.New("usage: oaat-image build|unpack ... (see the package comment in hack/image/main.go)"))
	}
	var err error
	switch os.Args[1] {
	case "build":
		err = build(os.Args[2:])
	case "unpack":
		err = unpack(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: want build or unpack", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "oaat-image: %v\n", err)
	os.Exit(1)
}

// attr is the mode and owner of one path, overriding the normalized ones.
type attr struct {
	mode     int64
	uid, gid int
}

// layerSource is one -layer NAME=DIR.
type layerSource struct{ name, dir string }

type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

func build(args []string) error {
	flags := flag.NewFlagSet("build", flag.ContinueOnError)
	out := flags.String("out", "", "archive to write")
	ref := flags.String("ref", "", "image name NAME:TAG")
	epoch := flags.Int64("epoch", -1, "SOURCE_DATE_EPOCH: every mtime and the created time")
	configFile := flags.String("config", "", "JSON of the OCI config's config object")
	var layerArgs, attrArgs repeated
	flags.Var(&layerArgs, "layer", "NAME=DIR, once per layer, bottom first")
	flags.Var(&attrArgs, "attr", "PATH=MODE[:UID:GID] (octal mode) for one path")
	if err := flags.Parse(args); err != nil {
		return err
	}
	name, tag, ok := strings.Cut(*ref, ":")
	if *out == "" || !ok || name == "" || tag == "" || *epoch < 0 || *configFile == "" || len(layerArgs) == 0 || flags.NArg() > 0 {
		return errors.New("build needs -out, -ref NAME:TAG, -epoch, -config and at least one -layer, and no other argument")
	}
	attrs, err := parseAttrs(attrArgs)
	if err != nil {
		return err
	}
	var sources []layerSource
	for _, arg := range layerArgs {
		n, dir, ok := strings.Cut(arg, "=")
		if !ok || n == "" || dir == "" {
			return fmt.Errorf("-layer %q: want NAME=DIR", arg)
		}
		sources = append(sources, layerSource{n, dir})
	}
	var config v1.Config
	raw, err := os.ReadFile(*configFile)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, &config); err != nil {
		return fmt.Errorf("%s: %w", *configFile, err)
	}
	created := v1.Time{Time: time.Unix(*epoch, 0).UTC()}

	work, err := os.MkdirTemp(filepath.Dir(*out), ".oaat-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	img, err := image(sources, attrs, created, config, work)
	if err != nil {
		return err
	}
	digest, err := writeArchive(img, *out, name, tag, created.Time)
	if err != nil {
		return err
	}
	fmt.Println(digest)
	return nil
}

func parseAttrs(args []string) (map[string]attr, error) {
	attrs := map[string]attr{}
	for _, arg := range args {
		p, spec, ok := strings.Cut(arg, "=")
		parts := strings.Split(spec, ":")
		if !ok || !path.IsAbs(p) || (len(parts) != 1 && len(parts) != 3) {
			return nil, fmt.Errorf("-attr %q: want /PATH=MODE[:UID:GID]", arg)
		}
		mode, err := strconv.ParseInt(parts[0], 8, 64)
		a := attr{mode: mode}
		if err == nil && len(parts) == 3 {
			a.uid, err = strconv.Atoi(parts[1])
			if err == nil {
				a.gid, err = strconv.Atoi(parts[2])
			}
		}
		if err != nil {
			return nil, fmt.Errorf("-attr %q: %w", arg, err)
		}
		attrs[strings.TrimPrefix(path.Clean(p), "/")] = a
	}
	return attrs, nil
}

// image assembles the image: one gzip layer per source (written under work), then the config.
func image(sources []layerSource, attrs map[string]attr, created v1.Time, config v1.Config, work string) (v1.Image, error) {
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	for i, source := range sources {
		file := filepath.Join(work, fmt.Sprintf("layer-%d.tar.gz", i))
		if err := writeLayer(source.dir, file, attrs, created.Time); err != nil {
			return nil, fmt.Errorf("layer %s from %s: %w", source.name, source.dir, err)
		}
		layer, err := tarball.LayerFromFile(file, tarball.WithMediaType(types.OCILayer))
		if err != nil {
			return nil, err
		}
		img, err = mutate.Append(img, mutate.Addendum{
			Layer:     layer,
			MediaType: types.OCILayer,
			History:   v1.History{Created: created, CreatedBy: "hack/image.sh: " + source.name, Comment: source.name},
		})
		if err != nil {
			return nil, err
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS, cf.Created, cf.Config = "amd64", "linux", created, config
	return mutate.ConfigFile(img, cf)
}

// writeLayer writes the gzip-compressed tar of everything under dir, sorted and normalized.
func writeLayer(dir, file string, attrs map[string]attr, mtime time.Time) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	// WalkDir visits the entries of each directory in lexical order.
	err = filepath.WalkDir(dir, func(p string, entry fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		return writeEntry(tw, p, rel, entry, attrs, mtime)
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}

func writeEntry(tw *tar.Writer, p, rel string, entry fs.DirEntry, attrs map[string]attr, mtime time.Time) error {
	info, err := entry.Info()
	if err != nil {
		return err
	}
	h := &tar.Header{Name: rel, ModTime: mtime, Mode: 0o644}
	switch {
	case info.Mode().IsDir():
		h.Typeflag, h.Name, h.Mode = tar.TypeDir, rel+"/", 0o755
	case info.Mode().IsRegular():
		h.Typeflag, h.Size = tar.TypeReg, info.Size()
		if info.Mode()&0o111 != 0 {
			h.Mode = 0o755
		}
	case info.Mode()&fs.ModeSymlink != 0:
		h.Typeflag, h.Mode = tar.TypeSymlink, 0o777
		if h.Linkname, err = os.Readlink(p); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%s: only directories, regular files and symlinks can go into a layer (mode %v)", p, info.Mode())
	}
	if a, ok := attrs[rel]; ok {
		h.Mode, h.Uid, h.Gid = a.mode, a.uid, a.gid
	}
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	if h.Typeflag != tar.TypeReg {
		return nil
	}
	src, err := os.Open(p)
	if err != nil {
		return err
	}
	defer src.Close()
	_, err = io.Copy(tw, src)
	return err
}

// dockerManifest is one entry of the manifest.json of `docker save`.
type dockerManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// writeArchive writes img as an OCI layout plus a docker manifest.json into one tar, entries
// sorted, and returns the manifest digest.
func writeArchive(img v1.Image, out, name, tag string, mtime time.Time) (string, error) {
	manifest, manifestErr := img.RawManifest()
	config, configErr := img.RawConfigFile()
	layers, layersErr := img.Layers()
	if err := errors.Join(manifestErr, configErr, layersErr); err != nil {
		return "", err
	}
	digest, configName := sha256Of(manifest), sha256Of(config)
	blobs := map[string]func() (io.ReadCloser, int64, error){}
	bytesBlob := func(b []byte) func() (io.ReadCloser, int64, error) {
		return func() (io.ReadCloser, int64, error) { return io.NopCloser(bytes.NewReader(b)), int64(len(b)), nil }
	}
	blobs[digest.Hex] = bytesBlob(manifest)
	blobs[configName.Hex] = bytesBlob(config)
	docker := dockerManifest{Config: "blobs/sha256/" + configName.Hex, RepoTags: []string{name + ":" + tag}}
	for _, layer := range layers {
		d, err := layer.Digest()
		if err != nil {
			return "", err
		}
		blobs[d.Hex] = func() (io.ReadCloser, int64, error) {
			size, err := layer.Size()
			if err != nil {
				return nil, 0, err
			}
			rc, err := layer.Compressed()
			return rc, size, err
		}
		docker.Layers = append(docker.Layers, "blobs/sha256/"+d.Hex)
	}
	index := v1.IndexManifest{
		SchemaVersion: 2,
		MediaType:     types.OCIImageIndex,
		Manifests: []v1.Descriptor{{
			MediaType: types.OCIManifestSchema1,
			Digest:    digest,
			Size:      int64(len(manifest)),
			Annotations: map[string]string{
				"org.opencontainers.image.ref.name": tag,
				"io.containerd.image.name":          containerdName(name) + ":" + tag,
			},
		}},
	}
	indexJSON, err := json.Marshal(index)
	if err != nil {
		return "", err
	}
	dockerJSON, err := json.Marshal([]dockerManifest{docker})
	if err != nil {
		return "", err
	}

	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp)
	defer f.Close()
	tw := tar.NewWriter(f)
	dir := func(p string) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: p, Mode: 0o755, ModTime: mtime})
	}
	file := func(p string, open func() (io.ReadCloser, int64, error)) error {
		rc, size, err := open()
		if err != nil {
			return err
		}
		defer rc.Close()
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: p, Mode: 0o644, Size: size, ModTime: mtime}); err != nil {
			return err
		}
		_, err = io.Copy(tw, rc)
		return err
	}
	if err := dir("blobs/"); err != nil {
		return "", err
	}
	if err := dir("blobs/sha256/"); err != nil {
		return "", err
	}
	for _, hex := range slices.Sorted(func(yield func(string) bool) {
		for k := range blobs {
			if !yield(k) {
				return
			}
		}
	}) {
		if err := file("blobs/sha256/"+hex, blobs[hex]); err != nil {
			return "", err
		}
	}
	for _, entry := range []struct {
		name string
		data []byte
	}{
		{"index.json", indexJSON},
		{"manifest.json", dockerJSON},
		{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)},
	} {
		if err := file(entry.name, bytesBlob(entry.data)); err != nil {
			return "", err
		}
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return digest.String(), os.Rename(tmp, out)
}

// containerdName is the fully qualified name containerd gives a short image name.
func containerdName(name string) string {
	first, _, found := strings.Cut(name, "/")
	switch {
	case !found:
		return "docker.io/library/" + name
	case strings.ContainsAny(first, ".:") || first == "localhost":
		return name
	default:
		return "docker.io/" + name
	}
}

func unpack(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: oaat-image unpack ARCHIVE ROOTFS")
	}
	archive, rootfs := args[0], args[1]
	layoutDir, err := os.MkdirTemp("", "oaat-image-layout-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(layoutDir)
	if err := untarFiles(archive, layoutDir); err != nil {
		return fmt.Errorf("reading %s: %w", archive, err)
	}
	img, err := ociImage(layoutDir)
	if err != nil {
		return fmt.Errorf("%s: %w", archive, err)
	}
	if err := sameAsDockerManifest(img, archive); err != nil {
		return fmt.Errorf("%s: %w", archive, err)
	}
	if err := os.Mkdir(rootfs, 0o755); err != nil {
		return err
	}
	if err := applyFlattened(img, rootfs); err != nil {
		return fmt.Errorf("unpacking %s into %s: %w", archive, rootfs, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(struct {
		Digest string         `json:"digest"`
		Config *v1.ConfigFile `json:"config"`
	}{digest.String(), cf})
}

// untarFiles extracts the regular files of a tar (an OCI layout: no links) under dir.
func untarFiles(archive, dir string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if err := root.MkdirAll(path.Dir(h.Name), 0o755); err != nil {
			return err
		}
		if err := createFile(root, h.Name, tr); err != nil {
			return err
		}
	}
}

// createFile writes what r holds into a new file name under root (mode 0600 until set).
func createFile(root *os.Root, name string, r io.Reader) error {
	out, err := root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, r)
	if closeErr := out.Close(); err == nil {
		err = closeErr
	}
	return err
}

// ociImage is the one image of the OCI layout in dir, its manifest and config checked against
// their digests.
func ociImage(dir string) (v1.Image, error) {
	index, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, err
	}
	manifest, err := index.IndexManifest()
	if err != nil {
		return nil, err
	}
	if len(manifest.Manifests) != 1 {
		return nil, fmt.Errorf("index.json lists %d manifests, want 1", len(manifest.Manifests))
	}
	img, err := index.Image(manifest.Manifests[0].Digest)
	if err != nil {
		return nil, err
	}
	raw, err := img.RawManifest()
	if err != nil {
		return nil, err
	}
	if got := sha256Of(raw); got != manifest.Manifests[0].Digest {
		return nil, fmt.Errorf("the manifest's digest is %s, index.json says %s", got, manifest.Manifests[0].Digest)
	}
	// RawConfigFile verifies nothing by itself; ConfigName is the digest the manifest names.
	rawConfig, err := img.RawConfigFile()
	if err != nil {
		return nil, err
	}
	want, err := img.ConfigName()
	if err != nil {
		return nil, err
	}
	if got := sha256Of(rawConfig); got != want {
		return nil, fmt.Errorf("the config's digest is %s, the manifest says %s", got, want)
	}
	return img, nil
}

func sha256Of(b []byte) v1.Hash {
	h, _, _ := v1.SHA256(bytes.NewReader(b))
	return h
}

// sameAsDockerManifest checks that manifest.json names the config and layers the OCI index does.
func sameAsDockerManifest(img v1.Image, archive string) error {
	docker, err := tarball.ImageFromPath(archive, nil)
	if err != nil {
		return fmt.Errorf("manifest.json: %w", err)
	}
	want, err := img.Manifest()
	if err != nil {
		return err
	}
	got, err := docker.Manifest()
	if err != nil {
		return fmt.Errorf("manifest.json: %w", err)
	}
	digests := func(m *v1.Manifest) []string {
		out := []string{m.Config.Digest.String()}
		for _, l := range m.Layers {
			out = append(out, l.Digest.String())
		}
		return out
	}
	if !slices.Equal(digests(got), digests(want)) {
		return fmt.Errorf("manifest.json names %v, index.json %v", digests(got), digests(want))
	}
	return nil
}

// applyFlattened writes the image's filesystem (its layers applied in order, whiteouts
// honoured; every layer checked against its digest) under rootfs, which must not be reached
// through a symlink of the image.
func applyFlattened(img v1.Image, rootfs string) error {
	root, err := os.OpenRoot(rootfs)
	if err != nil {
		return err
	}
	defer root.Close()
	flat := mutate.Extract(img)
	defer flat.Close()
	tr := tar.NewReader(flat)
	// Extract lists upper layers first: a file may come before its directory's entry, and a
	// hard link before its target, so directories' modes and hard links are set at the end.
	var dirs, links []*tar.Header
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		name := path.Clean(h.Name)
		if name == "." {
			continue
		}
		if err := root.MkdirAll(path.Dir(name), 0o755); err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o755); err != nil {
				return err
			}
			dirs = append(dirs, h)
			continue
		case tar.TypeReg:
			if err := createFile(root, name, tr); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := root.Symlink(h.Linkname, name); err != nil {
				return err
			}
		case tar.TypeLink:
			links = append(links, h)
			continue
		default:
			return fmt.Errorf("%s: unsupported entry type %q", h.Name, h.Typeflag)
		}
		if err := setOwnerAndMode(root, name, h); err != nil {
			return err
		}
	}
	for _, h := range links {
		if err := root.Link(path.Clean(h.Linkname), path.Clean(h.Name)); err != nil {
			return err
		}
	}
	for _, h := range dirs {
		if err := setOwnerAndMode(root, path.Clean(h.Name), h); err != nil {
			return err
		}
	}
	return nil
}

func setOwnerAndMode(root *os.Root, name string, h *tar.Header) error {
	if err := root.Lchown(name, h.Uid, h.Gid); err != nil {
		return err
	}
	if h.Typeflag == tar.TypeSymlink {
		return nil
	}
	// Chmod after chown: chown clears the setuid/setgid bits.
	mode := fs.FileMode(h.Mode & 0o777)
	if h.Mode&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	if h.Mode&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if h.Mode&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	return root.Chmod(name, mode)
}

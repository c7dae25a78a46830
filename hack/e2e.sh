#!/usr/bin/env bash
# `make e2e`: the e2e suites of `make e2e-local` against a kind cluster, the operator running as
# the chart's real Deployment from the image archive. Checks first that a container engine
# (`docker info`) and kind are there, and stops at once naming what is missing. Then builds the
# archive (hack/image.sh, as `make image`), creates a kind cluster (with the
# OwnerReferencesPermissionEnforcement admission plugin, as e2e-local's control plane has it),
# loads the archive (`kind load image-archive`) and runs the jest `e2e` project in kind mode
# (OAAT_E2E_KUBECONFIG, OAAT_E2E_KIND_IMAGE: see test/e2e/operator-runner.ts). The global setup
# adds KWOK and its fake node to the cluster (hack/control-plane.sh with CP_ATTACH_KUBECONFIG),
# where the item pods run. image.test.ts (the archive's contents, and a rebuild that must be
# identical) needs no cluster but root to unpack: `make e2e-local` runs it, this script skips it.
# The cluster is deleted at the end (E2E_KEEP=1 keeps it).
#
# Usage: hack/e2e.sh [JEST ARGS...]   e.g. --testPathPatterns namespaced
# Settings: E2E_CLUSTER (default oaat-e2e), KIND (default kind on PATH).
# Not run in this repository's CI (no container engine there); `make e2e-local` is.
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH=$PWD/node_modules/.bin:$PATH
CLUSTER=${E2E_CLUSTER:-oaat-e2e} KIND=${KIND:-kind}
die() { echo "e2e: $*" >&2; exit 1; }

docker info >/dev/null 2>&1 ||
  die "no container engine: 'docker info' failed. Install Docker (or Podman with its docker CLI), or run 'make e2e-local' (no engine needed)"
command -v "$KIND" >/dev/null 2>&1 || die "kind not found (KIND=$KIND): go install sigs.k8s.io/kind@latest"
hack/tools.sh t1 || die "building kubectl and kwok (hack/tools.sh t1) failed"
hack/tools.sh helm || die "building helm (hack/tools.sh helm) failed"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
image=oaat-operator:$(node -p 'require("./package.json").version')
hack/image.sh --out "$work/image.oci.tar" || die "building the image archive (hack/image.sh) failed"
# An unversioned patch: kind maps it onto the kubeadm config version it uses.
"$KIND" create cluster --name "$CLUSTER" --wait 120s --config - <<'CONFIG' || die "kind create cluster --name $CLUSTER failed"
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
kubeadmConfigPatches:
- |
  kind: ClusterConfiguration
  apiServer:
    extraArgs:
      enable-admission-plugins: NodeRestriction,OwnerReferencesPermissionEnforcement
CONFIG
[[ ${E2E_KEEP:-0} == 1 ]] || trap 'rm -rf "$work"; "$KIND" delete cluster --name "$CLUSTER"' EXIT
"$KIND" get kubeconfig --name "$CLUSTER" >"$work/kubeconfig" || die "kind get kubeconfig --name $CLUSTER failed"
"$KIND" load image-archive "$work/image.oci.tar" --name "$CLUSTER" || die "kind load image-archive failed"
OAAT_E2E_KUBECONFIG=$work/kubeconfig OAAT_E2E_KIND_IMAGE=$image \
  npm run --silent test:e2e -- --testPathIgnorePatterns image.test.ts "$@" || die "the e2e suites failed against kind cluster $CLUSTER"

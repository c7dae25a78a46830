#!/usr/bin/env bash
# `make e2e`: the real thing, in a container engine: builds the image archive (hack/image.sh,
# as `make image`), starts a kind cluster, loads the archive (`kind load image-archive`), installs the chart (CRDs included), applies the samples and waits until an
# item of the sample group has succeeded; the cluster is deleted afterwards (E2E_KEEP=1 keeps
# it). Without a container engine it says so and fails: use `make e2e-local` there.
#
# Settings: E2E_CLUSTER (default oaat-e2e), KIND (default
# kind on PATH), E2E_TIMEOUT (default 300s).
# Not run in this repository's CI (no container engine there); `make e2e-local` is.
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH=$PWD/node_modules/.bin:$PATH
CLUSTER=${E2E_CLUSTER:-oaat-e2e} KIND=${KIND:-kind} TIMEOUT=${E2E_TIMEOUT:-300s}
die() { echo "e2e: $*" >&2; exit 1; }

docker info >/dev/null 2>&1 ||
  die "no container engine: 'docker info' failed. Install Docker (or Podman with its docker CLI), or run 'make e2e-local' (no engine needed)"
command -v "$KIND" >/dev/null 2>&1 || die "kind not found (KIND=$KIND): go install sigs.k8s.io/kind@latest"
HELM=${HELM:-$(hack/tools.sh helm-path)} || die "no helm: hack/tools.sh helm-path failed"
command -v kubectl >/dev/null 2>&1 || PATH=$(hack/tools.sh bindir t0):$PATH

tag=$(node -p 'require("./package.json").version') work=$(mktemp -d)
archive=$work/oaat-operator.oci.tar
trap 'rm -rf "$work"' EXIT
hack/image.sh --out "$archive" || die "building the image archive (hack/image.sh) failed"
"$KIND" create cluster --name "$CLUSTER" --wait 120s || die "kind create cluster failed"
[[ ${E2E_KEEP:-0} == 1 ]] || trap 'rm -rf "$work"; "$KIND" delete cluster --name "$CLUSTER"' EXIT
kubeconfig=$(mktemp); "$KIND" get kubeconfig --name "$CLUSTER" >"$kubeconfig"
export KUBECONFIG=$kubeconfig
"$KIND" load image-archive "$archive" --name "$CLUSTER" || die "kind load image-archive $archive failed"

"$HELM" install oaat-operator charts/oaat-operator --namespace oaat-system --create-namespace --wait --timeout "$TIMEOUT" \
  --set image.repository=oaat-operator --set image.tag="$tag" --set image.pullPolicy=Never ||
  die "helm install failed"
kubectl -n oaat-system rollout status deployment/oaat-operator --timeout "$TIMEOUT"
curl_pod() { kubectl -n oaat-system run "probe-$RANDOM" --rm -i --restart=Never --image=busybox:1.37 -- wget -qO- "http://oaat-operator-metrics:8080$1"; }
curl_pod /readyz | grep -q ok || die "/readyz of the operator did not answer ok"
curl_pod /metrics | grep -q '^leader_election_master_status' || die "/metrics has no leader_election_master_status"

kubectl apply -n default -f config/samples/oaattype.yaml -f config/samples/oaatgroup.yaml
echo "e2e: waiting for an item of the sample group to succeed" >&2
deadline=$((SECONDS + ${TIMEOUT%s}))
until kubectl get og sample-echo -n default -o jsonpath='{.status.items}' | grep -q last_success; do
  ((SECONDS < deadline)) || { kubectl -n oaat-system logs deployment/oaat-operator --tail=50 >&2; die "no item succeeded within $TIMEOUT"; }
  sleep 3
done
kubectl get og -n default
echo "e2e: passed" >&2

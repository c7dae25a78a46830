#!/usr/bin/env bash
# `make run`: the operator on a cluster, with the CRDs and the samples installed. With a
# kubeconfig that reaches a cluster (KUBECONFIG or ~/.kube/config) that cluster is used and no
# control plane is built. Without one, a local T2 control plane is started (or reused) in
# OAAT_RUN_STATE; it keeps running after the operator stops, until `make stop`.
# OAAT_RUN_CLUSTER=local starts the local control plane even when a kubeconfig exists.
# The operator runs in the foreground (Ctrl-C stops it), watching all namespaces, with leader
# election off; OAAT_* variables configure it (docs/development.md).
set -Eeuo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH=$ROOT/node_modules/.bin:$PATH
STATE=${OAAT_RUN_STATE:-${TMPDIR:-/tmp}/oaat-run}

use_local() {
  if CP_STATE_DIR=$STATE "$ROOT/hack/control-plane.sh" status >/dev/null 2>&1; then
    echo "make run: the local control plane in $STATE is already running"
  else
    echo "make run: starting a local control plane (etcd, kube-apiserver, scheduler, controller-manager, KWOK)"
    # Item pods on the fake node end by themselves after 5-20 s, one in five failing.
    CP_KWOK_DEMO=1 CP_STATE_DIR=$STATE "$ROOT/hack/control-plane.sh" start --tier T2
  fi
  export KUBECONFIG=$STATE/kubeconfig
  cat <<EOM

In another terminal (item pods end by themselves after 5-20 s, one in five failing):
  source $STATE/env          # KUBECONFIG, and kubectl on PATH
  kubectl get og -w          # the sample group: which item runs, its pod, when it last ran
  kubectl describe og sample-echo  # each item's last success or failure, conditions, Events
  kubectl get oaat,pods      # groups, types and item pods
Stop the control plane (after Ctrl-C here): make stop
EOM
}

if [[ ${OAAT_RUN_CLUSTER:-auto} == local ]]; then
  use_local
else
  rc=0; where=$(node "$ROOT/hack/cluster-check.mjs" 2>&1) || rc=$?
  case $rc in
    0) echo "make run: using the cluster of your kubeconfig: $where" ;;
    3) use_local ;;
    *) echo "make run: $where" >&2
       echo "make run: fix the kubeconfig, or run 'OAAT_RUN_CLUSTER=local make run' for a local control plane" >&2
       exit 1 ;;
  esac
fi
echo
echo "make run: installing the CRDs and the samples (namespace default)"
node "$ROOT/hack/apply-manifests.mjs" "$ROOT/config/crd" "$ROOT/config/samples"
echo "make run: building and starting the operator (Ctrl-C stops it)"
(cd "$ROOT" && npm run --silent build)
export OAAT_LEADER_ELECT=${OAAT_LEADER_ELECT:-false} OAAT_LOG_FORMAT=${OAAT_LOG_FORMAT:-text}
export OAAT_HTTP_ADDRESS=${OAAT_HTTP_ADDRESS:-127.0.0.1:8080}
exec node "$ROOT/dist/main.js"

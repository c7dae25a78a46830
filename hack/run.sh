#!/usr/bin/env bash
# `make run`: a cluster to work with. With a kubeconfig that reaches a cluster (KUBECONFIG or
# ~/.kube/config) that cluster is used and nothing is built. Without one, a local T2 control
# plane is started (or reused) in OAAT_RUN_STATE; it keeps running until `make stop`.
# OAAT_RUN_CLUSTER=local starts the local control plane even when a kubeconfig exists.
set -Eeuo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH=$ROOT/node_modules/.bin:$PATH
STATE=${OAAT_RUN_STATE:-${TMPDIR:-/tmp}/oaat-run}

use_local() {
  if CP_STATE_DIR=$STATE "$ROOT/hack/control-plane.sh" status >/dev/null 2>&1; then
    echo "make run: the local control plane in $STATE is already running"
  else
    echo "make run: starting a local control plane (etcd, kube-apiserver, scheduler, controller-manager, KWOK)"
    CP_STATE_DIR=$STATE "$ROOT/hack/control-plane.sh" start --tier T2
  fi
  cat <<EOM

Use it:
  source $STATE/env          # KUBECONFIG, and kubectl on PATH
  kubectl get nodes          # one fake node, kwok-node-0: pods bound to it run (simulated)
Stop it:
  make stop
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
echo "The operator itself is not part of this build yet: only the cluster is set up."

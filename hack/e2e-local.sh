#!/usr/bin/env bash
# `make e2e-local`: the chart end to end without a container engine. Builds (once) the T2
# control-plane binaries and helm, then runs the jest `e2e` project, whose global setup
# assembles the runtime image contents (hack/runtime-dir.sh: `npm ci --omit=dev` + dist/) and
# starts a fresh T2 control plane (hack/control-plane.sh, stopped afterwards). Each suite
# `helm install`s the chart (replicaCount=0: there is no image here), runs the operator as a
# local process with the chart's command, environment and ServiceAccount token, probes
# /healthz /readyz /metrics and runs groups on the KWOK node, in cluster-wide and namespaced
# mode, and with a verb missing from the ClusterRole; every release and item namespace enforces
# Pod Security `restricted`. The CRD suite installs the packaged chart as the release that owns
# the CRDs, upgrades them, keeps them on uninstall, and adopts CRDs of a 0.1.x install.
#
# Usage: hack/e2e-local.sh [JEST ARGS...]   e.g. --testPathPatterns namespaced
# OAAT_TEST_CP_STATE=<dir> reuses a running T2 control plane; OAAT_E2E_APP_DIR=<dir> reuses a
# directory made by hack/runtime-dir.sh.
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH=$PWD/node_modules/.bin:$PATH

hack/tools.sh t2 || { echo "e2e-local: building the control-plane binaries failed" >&2; exit 1; }
hack/tools.sh helm || { echo "e2e-local: building helm failed" >&2; exit 1; }
exec npm run --silent test:e2e -- "$@"

#!/usr/bin/env bash
# `make e2e-local`: the chart end to end without a container engine. Builds (once) the T2
# control-plane binaries and helm, then runs the jest `e2e` project, whose global setup builds the
# image (hack/image.sh), unpacks it into a root filesystem (oaat-image unpack) and starts a fresh
# T2 control plane (hack/control-plane.sh, stopped afterwards). Each suite `helm install`s the
# chart (replicaCount=0: no kubelet here) and runs the chart container's command inside the
# image's root filesystem (mount namespace, read-only root, chroot) as the image's user 65532,
# with the ServiceAccount volume of a pod; it probes /healthz /readyz /metrics and runs groups on
# the KWOK node, in cluster-wide and namespaced mode, and with a verb missing from the
# ClusterRole; every release and item namespace enforces Pod Security `restricted`. The CRD suite
# installs the packaged chart as the release that owns the CRDs, upgrades them, keeps them on
# uninstall, and adopts CRDs of a 0.1.x install. image.test.ts checks what the image holds and that a second build is identical.
# Needs root (mounts, chroot).
#
# Usage: hack/e2e-local.sh [JEST ARGS...]   e.g. --testPathPatterns namespaced
# OAAT_TEST_CP_STATE=<dir> reuses a running T2 control plane; OAAT_E2E_IMAGE=<archive> tests
# that archive of `make image` (of this checkout: image.test.ts rebuilds and compares).
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH=$PWD/node_modules/.bin:$PATH

hack/tools.sh t2 || { echo "e2e-local: building the control-plane binaries failed" >&2; exit 1; }
hack/tools.sh helm || { echo "e2e-local: building helm failed" >&2; exit 1; }
(( EUID == 0 )) || { echo "e2e-local: run as root: the operator runs from the image's root filesystem (mount namespace, chroot)" >&2; exit 1; }
exec npm run --silent test:e2e -- "$@"

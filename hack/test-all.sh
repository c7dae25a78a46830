#!/usr/bin/env bash
# `make test`: everything CI checks. The control-plane binaries build in the background (a cold
# cache takes a while) while the npm install, type check, lint, build and unit tests run; the
# integration tests then wait for them.
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH=$PWD/node_modules/.bin:$PATH

# The CI slice of chaos: between them, every process fault (a create held while its sender is
# killed, leader and standby kills, lease theft and renewal failure, kube-apiserver restart, etcd
# stalls), lost responses, cut watches, a partition, group re-creation, pod deletion, a renamed
# running item and a deleted OaatType (npm run chaos:plans lists what a seed does).
CHAOS_CI_SEEDS=4,22,33,24,35

step() { printf '\n=== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }
started=$SECONDS

tools_log=$(mktemp "${TMPDIR:-/tmp}/oaat-tools.XXXXXX.log")
step "control-plane binaries, helm, actionlint and promtool: hack/tools.sh all, helm, actionlint-path, promtool-path (background, log $tools_log)"
{ hack/tools.sh all && hack/tools.sh helm && hack/tools.sh actionlint-path >/dev/null && hack/tools.sh promtool-path >/dev/null; } >"$tools_log" 2>&1 &
tools_pid=$!
trap 'kill "$tools_pid" 2>/dev/null || true' EXIT

step "npm dependencies"; make --no-print-directory deps
step "type check"; npm run --silent typecheck
step "lint"; npm run --silent lint
step "build"; npm run --silent build
results=$(mktemp -d "${TMPDIR:-/tmp}/oaat-results.XXXXXX")
step "unit tests"; npm run --silent test:unit -- --json --outputFile="$results/unit.json"
step "deterministic simulation of the run protocol: 2000 episodes (make sim)"
SEEDS=2000 npm run --silent sim >"$results/sim.txt" 2>&1 || { cat "$results/sim.txt"; echo "make test: the simulation found violations (replay one with make sim SEED=...)" >&2; exit 1; }
tail -n 30 "$results/sim.txt"

step "waiting for the control-plane binaries"
if ! wait "$tools_pid"; then
  cat "$tools_log" >&2
  echo "make test: building the control-plane binaries failed (log: $tools_log)" >&2
  exit 1
fi
cat "$tools_log"; rm -f "$tools_log"
trap - EXIT

step "integration tests"; npm run --silent test:integration -- --json --outputFile="$results/integration.json"

# Helm chart and release (offline checks), then the chart end to end on its own T2 control plane.
step "chart checks: helm lint/template, values schema, generated manifests, make release's checks, actionlint of the workflows, promtool of the alerts"
npm run --silent test:chart -- --json --outputFile="$results/chart.json"
step "e2e-local: the image (built twice: same digest), then the chart + the operator run from it on a local T2 control plane"
hack/e2e-local.sh --json --outputFile="$results/e2e.json"
# Five fixed seeds of the short chaos profile (a full run is `make chaos`, see docs/reliability.md):
# the built operator under faults on its own T2 control plane; liveness bounds x3 for slow machines.
step "chaos: 5 fixed-seed episodes against the built operator (make chaos SEEDS=$CHAOS_CI_SEEDS)"
SEEDS=$CHAOS_CI_SEEDS LIVENESS_FACTOR=3 RESULTS="$results/chaos.jsonl" ARTIFACTS="${TMPDIR:-/tmp}/oaat-chaos-artifacts" npm run --silent chaos
step "every check passed ($((SECONDS - started)) s)"
# One closing line for every test runner together.
node -e '
  const totals = { passed: 0, failed: 0, skipped: 0 };
  for (const file of process.argv.slice(1)) {
    const r = require(file);
    totals.passed += r.numPassedTests; totals.failed += r.numFailedTests;
    totals.skipped += r.numPendingTests + r.numTodoTests;
  }
  console.log(`tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
' "$results/unit.json" "$results/integration.json" "$results/chart.json" "$results/e2e.json"
rm -rf "$results"

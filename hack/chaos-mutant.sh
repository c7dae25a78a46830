#!/usr/bin/env bash
# Shows that chaos's oracle catches a broken operator: builds a mutant of dist/ whose planner
# claims while other pods of the group are alive and counts a deleting pod as gone (the v1
# hole "a re-created group runs beside its predecessor's terminating pod"), runs the chaos
# seeds that can meet it, and fails unless an episode reports a violation.
# Usage: hack/chaos-mutant.sh [SEEDS] (default 28,65,393,16: group re-creations while pods
# terminate), after npm run build. On a real cluster a seed fixes the faults, not the
# interleaving: the seeds give the bug several chances to show.
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH=$PWD/node_modules/.bin:$PATH
seeds=${1:-28,65,393,16}
[[ -f dist/main.js ]] || { echo "chaos-mutant: build first (npm run build)" >&2; exit 2; }
rm -rf .chaos/mutant && mkdir -p .chaos && cp -r dist .chaos/mutant
mutate() { # FILE FROM TO: replace once, or fail (the build changed; update the mutation)
  grep -qF -- "$2" "$1" || { echo "chaos-mutant: '$2' not found in $1" >&2; exit 2; }
  FROM=$2 TO=$3 perl -0pi -e 's/\Q$ENV{FROM}\E/$ENV{TO}/' "$1"
}
mutate .chaos/mutant/services/group-planner.js 'if (draft.currentRun !== undefined || this.blockers.length > 0)' 'if (draft.currentRun !== undefined)'
mutate .chaos/mutant/services/pod-outcome.js 'return !isTerminal(pod);' 'return !isTerminal(pod) && pod.metadata?.deletionTimestamp == null;'
rm -f .chaos/mutant.jsonl
OPERATOR_MAIN=.chaos/mutant/main.js SEEDS=$seeds RESULTS=.chaos/mutant.jsonl ARTIFACTS=.chaos/artifacts-mutant npm run --silent chaos || true
# An episode's result line lists its violations; one with any is the catch.
if grep -q '"violations":\["' .chaos/mutant.jsonl 2>/dev/null; then echo "chaos-mutant: the oracle caught the mutant"; exit 0; fi
echo "chaos-mutant: the mutant went unnoticed" >&2
exit 1

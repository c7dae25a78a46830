#!/usr/bin/env bash
# `make bench`: the whole benchmark suite, one run after another (they must not share the cores
# with each other), each with the command bench/REPORT.md quotes. Every run's output goes to
# bench/results/<UTC date>-<commit>/<name>.txt and index.md lists them with the command, the
# exit status, the duration and the output (markdown tables as printed, JSON in code blocks).
# About an hour on the 2-core development machine; BENCH_ONLY=name,name runs a subset.
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH=$PWD/node_modules/.bin:$PATH

# name | environment | npm script
SUITE=(
  "workqueue||bench:workqueue"
  "services||bench:services"
  "scrape||bench:scrape"
  "liveness||bench:liveness"
  "client||bench:client"
  "burst-50||bench:operator"
  "burst-10|BENCH_GROUPS=10|bench:operator"
  "steady-1000|BENCH_MODE=steady BENCH_GROUPS=1000 BENCH_ITEMS=4|bench:operator"
  "eligible-1000|BENCH_MODE=eligible BENCH_GROUPS=1000 BENCH_FREQUENCY=50s|bench:operator"
  "burst-1000|BENCH_GROUPS=1000 BENCH_ITEMS=2 BENCH_RUNS_PER_GROUP=2|bench:operator"
  "burst-1000-kwok64|BENCH_GROUPS=1000 BENCH_ITEMS=2 BENCH_RUNS_PER_GROUP=2 BENCH_KWOK_PARALLELISM=64|bench:operator"
  "profile-1000|BENCH_MODE=steady BENCH_GROUPS=1000 BENCH_ITEMS=4 BENCH_CPU_PROFILE=1|bench:operator"
  "restart-1000|BENCH_GROUPS=1000|bench:restart"
  "restart-5000|BENCH_GROUPS=5000 BENCH_HEAP_SNAPSHOT=1|bench:restart"
)

commit=$(git rev-parse --short HEAD)
[[ -z $(git status --porcelain) ]] || commit="$commit-dirty"
out="bench/results/$(date -u +%Y-%m-%d)-$commit"
mkdir -p "$out"
index="$out/index.md"
{
  echo "# Benchmarks of $commit, $(date -u +'%Y-%m-%d %H:%M') UTC"
  echo
  echo "Node $(node --version), $(nproc) cores, load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)."
} >"$index"

failed=0
for entry in "${SUITE[@]}"; do
  IFS='|' read -r name env script <<<"$entry"
  if [[ -n ${BENCH_ONLY:-} && ",$BENCH_ONLY," != *",$name,"* ]]; then continue; fi
  command="${env:+$env }npm run --silent $script"
  echo "=== $name: $command ($(date -u +%H:%M:%S))"
  started=$SECONDS
  status=0
  env $env npm run --silent "$script" >"$out/$name.txt" 2>"$out/$name.log" || status=$?
  ((status == 0)) || failed=1
  {
    echo
    echo "## $name"
    echo
    echo "\`$command\`: exit $status, $((SECONDS - started)) s"
    echo
    if grep -q '^{' "$out/$name.txt"; then
      echo '```json'
      sed -n '/^{/,$p' "$out/$name.txt"
      echo '```'
    else
      cat "$out/$name.txt"
    fi
  } >>"$index"
done
echo "bench: results in $index"
exit "$failed"

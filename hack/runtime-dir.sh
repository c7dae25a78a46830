#!/usr/bin/env bash
# Assembles in DIR what the Dockerfile's runtime stage holds, without a container engine:
# package.json and package-lock.json, `npm ci --omit=dev` (production dependencies only) and
# the dist/ of `npm run build`. `node DIR/dist/main.js` (from DIR) is then the image's command.
#
# Usage: hack/runtime-dir.sh DIR   (DIR is created, or emptied when it exists)
# Fails with one line naming the step when a step fails.
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH=$PWD/node_modules/.bin:$PATH
[[ $# -eq 1 && -n $1 ]] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$1
die() { echo "runtime-dir: $*" >&2; exit 1; }

npm run --silent build || die "npm run build failed"
rm -rf "$dir"; mkdir -p "$dir"
cp package.json package-lock.json "$dir/"
( cd "$dir" && NODE_ENV=production npm ci --omit=dev --no-audit --no-fund --loglevel=error >&2 ) ||
  die "npm ci --omit=dev failed in $dir"
cp -R dist "$dir/dist"
# The runtime stage has no dev dependency: prove none slipped in.
[[ ! -e $dir/node_modules/typescript && ! -e $dir/node_modules/jest ]] || die "dev dependencies in $dir/node_modules"
echo "runtime-dir: $dir ready ($(du -sh "$dir" | cut -f1))" >&2

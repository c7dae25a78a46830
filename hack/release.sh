#!/usr/bin/env bash
# `make release [TAG=vX.Y.Z]`: the release assets of package.json's version, in release/<version>/:
#   oaat-operator-<version>.oci.tar  the image archive (`make image` builds it in dist/)
#   oaat-operator-<version>.tgz      the Helm chart (`helm package`)
#   kubectl-oaat-<version>.tgz       the kubectl plugin: the `npm pack` tarball of the built package
#                                    (`npm install -g kubectl-oaat-<version>.tgz`; Node >= 22.19)
#   SHA256SUMS                       their checksums: `sha256sum -c SHA256SUMS` verifies them
#
# Usage: hack/release.sh [--tag vX.Y.Z]        everything, as above
#        hack/release.sh assemble DIR FILE...  only the last step: package the chart into DIR
#                                              (made empty first), copy the FILEs there and write
#                                              DIR/SHA256SUMS (relative paths are from the
#                                              repository root)
#
# Before building anything, hack/release-check.ts checks that Chart.yaml's version and
# appVersion, CHANGELOG.md's newest released section and the tag (when given) all say
# package.json's version, and fails naming each mismatch; after `make image`, the image's version
# label too. Helm is $HELM, else the one hack/tools.sh builds.
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH=$PWD/node_modules/.bin:$PATH

die() { echo "release: $*" >&2; exit 1; }
release_check() { node --experimental-transform-types --disable-warning=ExperimentalWarning hack/release-check.ts "$@"; }

# assemble DIR FILE...: the chart packaged into DIR, the FILEs copied there, DIR/SHA256SUMS.
assemble() {
  local dir=$1 helm; shift
  helm=${HELM:-$(hack/tools.sh helm-path)} || die "no helm: set HELM or fix 'hack/tools.sh helm-path'"
  { rm -rf "$dir" && mkdir -p "$dir"; } || die "cannot make an empty $dir"
  "$helm" package charts/oaat-operator --destination "$dir" >/dev/null || die "helm package of charts/oaat-operator failed"
  cp -- "$@" "$dir/" || die "copying $* into $dir failed"
  local sums
  sums=$(cd "$dir" && find . -maxdepth 1 -type f -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum --) ||
    die "computing the checksums in $dir failed"
  echo "$sums" >"$dir/SHA256SUMS" || die "writing $dir/SHA256SUMS failed"
}

if [[ ${1:-} == assemble ]]; then
  (($# >= 3)) || die "usage: $0 assemble DIR FILE..."
  shift; assemble "$@"; exit 0
fi

tag=()
case $# in
  0) ;;
  2) [[ $1 == --tag && -n $2 ]] || die "usage: $0 [--tag vX.Y.Z] | assemble DIR FILE..."; tag=(--tag "$2") ;;
  *) die "usage: $0 [--tag vX.Y.Z] | assemble DIR FILE..." ;;
esac

version=$(release_check "${tag[@]}") || die "the versions disagree (above); nothing was built"
image=dist/oaat-operator-$version.oci.tar
grep -q '^image:' Makefile || die "no 'make image' target in the Makefile: it builds $image, which the release needs"
make --no-print-directory image || die "make image failed"
[[ -f $image ]] || die "make image did not produce $image"
release_check "${tag[@]}" --image "$image" >/dev/null || die "the image's version disagrees (above)"

npm run --silent build || die "npm run build (for the plugin's tarball) failed"
pack=$(mktemp -d) || die "cannot make a directory for npm pack"
trap 'rm -rf "$pack"' EXIT
packed=$(npm pack --silent --pack-destination "$pack") || die "npm pack failed"
# npm names it after the package, as helm names the chart: renamed after the plugin.
plugin=$pack/kubectl-oaat-$version.tgz
mv -- "$pack/$packed" "$plugin" || die "npm pack did not produce $pack/$packed"

dir=release/$version
assemble "$dir" "$image" "$plugin"
echo "release $version in $dir/:"
(cd "$dir" && ls -l -- * && echo && cat SHA256SUMS)

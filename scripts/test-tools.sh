#!/usr/bin/env bash
# Builds the binaries the cluster test suite needs (kube-apiserver, etcd, helm, and a kubectl
# of the same release as the API server) from the
# versions pinned in test/tools/go.mod, into a cache directory outside the repository:
#
#   ${IDPBUILDER_TOOLS_DIR:-$HOME/.cache/idpbuilder-test-tools}/<hash of go.mod+go.sum>/bin
#
# Binaries already built for the same go.mod/go.sum are reused. Progress goes to stderr;
# the last line on stdout is the bin directory, so `bin=$(bash scripts/test-tools.sh)` works.
# Safe to run concurrently: builds go to a temporary directory that is renamed into place
# (and, where flock(1) exists, a second caller waits for the first and reuses its result).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mod_dir="$root/test/tools"
tools=(kube-apiserver etcd helm kubectl)

go_bin="$(command -v go || true)"
if [[ -z "$go_bin" && -x /usr/local/go/bin/go ]]; then go_bin=/usr/local/go/bin/go; fi
if [[ -z "$go_bin" ]]; then
  echo "test tools: no go toolchain found (install Go >= 1.24 or put it on PATH)" >&2
  exit 1
fi

# Bump when the build recipe below changes (flags, tool list), so cached binaries are rebuilt.
recipe=2
hash="$( (cat "$mod_dir/go.mod" "$mod_dir/go.sum"; echo "recipe=$recipe ${tools[*]}") | sha256sum | cut -c1-12)"
base="${IDPBUILDER_TOOLS_DIR:-${HOME:-/tmp}/.cache/idpbuilder-test-tools}"
dir="$base/$hash"
bin="$dir/bin"
mkdir -p "$base"

have_all() {
  local t
  for t in "${tools[@]}"; do [[ -x "$bin/$t" ]] || return 1; done
}

build() {
  local start tmp
  start=$(date +%s)
  tmp="$(mktemp -d "$base/.build-$hash.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  mkdir -p "$tmp/bin"
  echo "test tools: building ${tools[*]} with $("$go_bin" env GOVERSION) (first build takes several minutes)" >&2
  (
    cd "$mod_dir"
    export CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off
    export GOFLAGS="${GOFLAGS:-} -mod=readonly"
    # Version stamps the upstream Makefiles set (without them the binaries call themselves
    # v0.0.0-master, and helm assumes Kubernetes 1.20 for .Capabilities).
    k8s="$("$go_bin" list -m -f '{{.Version}}' k8s.io/kubernetes)"   # v1.34.4
    helm="$("$go_bin" list -m -f '{{.Version}}' helm.sh/helm/v3)"     # v3.19.5
    minor="$(echo "$k8s" | cut -d. -f2)"
    kv=""
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      kv+=" -X $pkg.gitVersion=$k8s -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
      kv+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
    done
    hv="-X helm.sh/helm/v3/internal/version.version=$helm -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
    hv+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$minor"
    hv+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$minor"
    "$go_bin" build -trimpath "-ldflags=-s -w" -o "$tmp/bin/etcd" go.etcd.io/etcd/server/v3
    "$go_bin" build -trimpath "-ldflags=-s -w$kv" -o "$tmp/bin/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
    "$go_bin" build -trimpath "-ldflags=-s -w$kv" -o "$tmp/bin/kubectl" k8s.io/kubernetes/cmd/kubectl
    "$go_bin" build -trimpath "-ldflags=-s -w $hv" -o "$tmp/bin/helm" helm.sh/helm/v3/cmd/helm
  ) >&2
  cp "$mod_dir/go.mod" "$mod_dir/go.sum" "$tmp/"
  # Atomic publish: rename fails if another build got there first; then keep theirs.
  if mv -T "$tmp" "$dir" 2>/dev/null; then
    trap - EXIT
  else
    rm -rf "$tmp"
    trap - EXIT
  fi
  echo "test tools: built $bin in $(( $(date +%s) - start ))s" >&2
}

if have_all; then
  echo "test tools: reused $bin" >&2
else
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$base/.lock-$hash"
    flock 9
  fi
  if have_all; then
    echo "test tools: reused $bin (built by a concurrent run)" >&2
  else
    rm -rf "$dir" # a partial directory left by an older, interrupted layout
    build
  fi
fi
have_all || { echo "test tools: build did not produce all of: ${tools[*]}" >&2; exit 1; }
echo "$bin"

#!/usr/bin/env bash
# CI step: the cluster test suite against a real kube-apiserver + etcd on loopback.
# Builds (or reuses) the pinned test binaries, then runs vitest with vitest.cluster.config.ts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
  export PATH="$PATH:/usr/local/go/bin"
fi

start=$(date +%s)
bin="$(bash scripts/test-tools.sh | tail -n 1)"
echo "cluster: test tools ready in $(( $(date +%s) - start ))s: $bin"
export IDPBUILDER_TOOLS_BIN="$bin"

npm run test:cluster

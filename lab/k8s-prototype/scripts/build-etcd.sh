#!/usr/bin/env bash
# Build etcd (main package go.etcd.io/etcd/server/v3) from the Go proxy, cached by version.
# go.etcd.io/etcd/server/v3's go.mod has `replace ... => ../api` lines, so `go install pkg@ver` refuses it;
# a tiny wrapper module that *requires* it makes those replaces irrelevant (deps resolve to real versions).
# usage: build-etcd.sh v3.7.3
set -euo pipefail
source "$(dirname "$0")/lib-build.sh"
ETCD_VERSION=${1:?usage: $0 v3.X.Y}
WRAP=$PROTO/wrappers/etcd-$ETCD_VERSION
OUT=$BIN_ROOT/etcd-$ETCD_VERSION-$GOVER
key="etcd=$ETCD_VERSION go=$GOVER"
if stamp_ok "$OUT" "$key" etcd; then log "etcd $ETCD_VERSION: cached in $OUT"; exit 0; fi
if [[ ! -f $WRAP/go.sum ]]; then
  mkdir -p "$WRAP"
  gomod=$(go mod download -json "go.etcd.io/etcd/server/v3@$ETCD_VERSION" | jq -r .GoMod)
  gol=$(go mod edit -json "$gomod" | jq -r .Go)
  printf 'module k8sproto/etcd-wrapper\n\ngo %s\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$gol" "$ETCD_VERSION" > "$WRAP/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' > "$WRAP/tools.go"
  (cd "$WRAP" && go mod tidy)
fi
mkdir -p "$OUT"
go_build_progress "etcd-$ETCD_VERSION" "$WRAP" -- "${GO_BUILD_FLAGS[@]}" -ldflags="-s -w" -o "$OUT/etcd" go.etcd.io/etcd/server/v3
echo "$key" > "$OUT/.stamp"
"$OUT/etcd" --version >&2

#!/usr/bin/env bash
# Build main packages of a replace-free Go module at a pinned version, cached by version.
# A wrapper module that only requires MODULE@VERSION makes MVS pick exactly MODULE's own dependency versions
# (same result as `go install pkg@version`), but lets us build several binaries in one go and show progress.
# usage: build-mod.sh NAME MODULE VERSION PKG... (binaries named after the last path element)
#   e.g. build-mod.sh kwok sigs.k8s.io/kwok v0.8.0 sigs.k8s.io/kwok/cmd/kwok
set -euo pipefail
source "$(dirname "$0")/lib-build.sh"
NAME=$1 MODULE=$2 VERSION=$3; shift 3
PKGS=("$@")
WRAP=$PROTO/wrappers/$NAME-$VERSION
OUT=$BIN_ROOT/$NAME-$VERSION-$GOVER
bins=(); for p in "${PKGS[@]}"; do bins+=("${p##*/}"); done
key="$NAME=$MODULE@$VERSION go=$GOVER pkgs=${PKGS[*]} ld=${EXTRA_LDFLAGS:-} replace=${EXTRA_REPLACE:-}"
if stamp_ok "$OUT" "$key" "${bins[@]}"; then log "$NAME $VERSION: cached in $OUT"; exit 0; fi
if [[ ! -f $WRAP/go.sum ]]; then
  mkdir -p "$WRAP"
  info=$(go mod download -json "$MODULE@$VERSION")
  [[ $(jq -r '.Error // empty' <<<"$info") == "" ]] || { jq -r .Error <<<"$info" >&2; exit 1; }
  gomod=$(jq -r .GoMod <<<"$info")
  if [[ -n $(go mod edit -json "$gomod" | jq -r '.Replace // [] | .[]') ]]; then
    log "WARNING: $MODULE@$VERSION has replace directives (ignored in a dependency)"
  fi
  gol=$(go mod edit -json "$gomod" | jq -r .Go)
  printf 'module k8sproto/%s-wrapper\n\ngo %s\n\nrequire %s %s\n' "$NAME" "$gol" "$MODULE" "$VERSION" > "$WRAP/go.mod"
  { printf '//go:build tools\n\npackage tools\n\nimport (\n'; for p in "${PKGS[@]}"; do printf '\t_ "%s"\n' "$p"; done; printf ')\n'; } > "$WRAP/tools.go"
  # EXTRA_REPLACE="old=new@ver ..." : escape hatch when the proxy lacks a dependency version (deviates from upstream!)
  for r in ${EXTRA_REPLACE:-}; do (cd "$WRAP" && go mod edit -replace="$r"); log "WARNING: replace $r"; done
  (cd "$WRAP" && go mod tidy)
fi
mkdir -p "$OUT"
go_build_progress "$NAME-$VERSION" "$WRAP" -- "${GO_BUILD_FLAGS[@]}" -ldflags="${EXTRA_LDFLAGS:-} -s -w" -o "$OUT/" "${PKGS[@]}"
echo "$key" > "$OUT/.stamp"
ls -l "$OUT" >&2

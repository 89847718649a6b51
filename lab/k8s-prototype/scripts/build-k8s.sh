#!/usr/bin/env bash
# Build Kubernetes control-plane binaries from the k8s.io/kubernetes Go module, cached by version.
# usage: build-k8s.sh v1.37.1      (env CMDS="kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubectl")
set -euo pipefail
source "$(dirname "$0")/lib-build.sh"
K8S_VERSION=${1:?usage: $0 vX.Y.Z}
CMDS=${CMDS:-"kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubectl"}
WRAP=$PROTO/wrappers/k8s-$K8S_VERSION
OUT=$BIN_ROOT/k8s-$K8S_VERSION-$GOVER

[[ -f $WRAP/go.mod ]] || CMDS=$CMDS "$PROTO/scripts/gen-k8s-wrapper.sh" "$K8S_VERSION" "$WRAP"

# Version ldflags exactly like hack/lib/version.sh: set both client-go and component-base.
info=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION")
commit=$(jq -r '.Origin.Hash // empty' <<<"$info")
[[ -n $commit ]] || commit=$(jq -r .Info <<<"$info" | xargs cat | jq -r '.Origin.Hash // empty')
date=$(jq -r .Info <<<"$info" | xargs cat | jq -r .Time)        # release time => reproducible link
ver=${K8S_VERSION#v}; major=${ver%%.*}; minor=${ver#*.}; minor=${minor%%.*}
ld=""
for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  ld+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=$major -X $p.gitMinor=$minor"
  ld+=" -X $p.gitCommit=${commit:-unknown} -X $p.gitTreeState=clean -X $p.buildDate=$date"
done
LDFLAGS="all=$ld -s -w"
TAGS="-tags=selinux,notest,grpcnotrace"          # same tags as hack/lib/golang.sh (non-debug)

key="k8s=$K8S_VERSION go=$GOVER cmds=$CMDS ld=$(sha256sum <<<"$LDFLAGS$TAGS$(cat "$WRAP/go.mod")" | cut -c1-16)"
# shellcheck disable=SC2086
if stamp_ok "$OUT" "$key" $CMDS; then log "k8s $K8S_VERSION: cached in $OUT"; exit 0; fi
mkdir -p "$OUT"
pkgs=(); for c in $CMDS; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
go_build_progress "k8s-$K8S_VERSION" "$WRAP" -- "${GO_BUILD_FLAGS[@]}" "$TAGS" -ldflags="$LDFLAGS" -o "$OUT/" "${pkgs[@]}"
echo "$key" > "$OUT/.stamp"
ls -l "$OUT" >&2

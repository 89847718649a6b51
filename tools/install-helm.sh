#!/usr/bin/env bash
# Build the helm binary kubernetes.core.helm needs, from the Go module proxy (no GitHub,
# no get.helm.sh), cached by helm and Go version, and link it into the venv's bin/.
#
#   HELM_VERSION=v3.22.0 VENV=.venv bash tools/install-helm.sh
#
# `go install pkg@version` builds exactly the dependency versions helm's go.mod pins.
# The version string helm prints comes from ldflags (the source says only "v3.x"), so it is
# set here: kubernetes.core.helm reads `helm version` to decide what the binary supports.
set -euo pipefail
helm_version="${HELM_VERSION:-v3.22.0}"
venv="${VENV:-.venv}"
go_version=$(go env GOVERSION)
cache="${HELM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/baremetal-metallb/helm}/helm-${helm_version}-${go_version}"
binary="$cache/helm"

if [[ ! -x "$binary" ]]; then
  echo "install-helm: building helm $helm_version with $go_version from the Go module proxy (a few minutes, once)"
  mkdir -p "$cache.tmp"
  GOBIN="$cache.tmp" GOFLAGS="-mod=mod -trimpath" CGO_ENABLED=0 \
    nice -n 10 go install \
      -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=${helm_version} -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
      "helm.sh/helm/v3/cmd/helm@${helm_version}"
  rm -rf "$cache"
  mv "$cache.tmp" "$cache"
fi
mkdir -p "$venv/bin"
ln -sfn "$binary" "$venv/bin/helm"
echo "install-helm: ok ($("$venv/bin/helm" version --short) at $venv/bin/helm)"

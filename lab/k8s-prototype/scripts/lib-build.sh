# shellcheck shell=bash
# Shared helpers for the build scripts (source me).
PROTO=${PROTO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BIN_ROOT=${BIN_ROOT:-$PROTO/bin}
GOVER=$(go env GOVERSION)
export CGO_ENABLED=0
# Upstream-style flags: static, trimmed, stripped.
GO_BUILD_FLAGS=(-trimpath)

# mawk buffers pipe input by default; -W interactive makes the progress lines appear live
if awk -W version 2>&1 | grep -q mawk; then AWK="awk -W interactive"; else AWK=awk; fi
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# stamp_ok DIR KEY BIN...: true if DIR/.stamp == KEY and every BIN exists
stamp_ok() {
  local dir=$1 key=$2; shift 2
  [[ -f $dir/.stamp && "$(cat "$dir/.stamp")" == "$key" ]] || return 1
  local b; for b; do [[ -x $dir/$b ]] || return 1; done
}

# go_build_progress LABEL WORKDIR -- <go build args...>
# Runs `go build -v` in WORKDIR and prints "LABEL n/N pkgs (elapsed)" every ~10 s or 40 packages
# (N = number of packages in the dependency graph; cached packages are not counted by -v).
go_build_progress() {
  local label=$1 wd=$2; shift 3
  local pkgs=() a tags="" skip=0
  for a; do
    if ((skip)); then skip=0; continue; fi
    case $a in -o) skip=1;; -tags=*) tags=$a;; -*) ;; *) pkgs+=("$a");; esac
  done
  local total
  total=$(cd "$wd" && go list $tags -deps "${pkgs[@]}" 2>/dev/null | wc -l || true)
  log "$label: building ${#pkgs[@]} main package(s), $total packages in graph (GOFLAGS=${GOFLAGS:-})"
  local start=$SECONDS rc
  set +e
  ( cd "$wd" && nice -n 19 go build -v "$@" 2>&1 ) | $AWK -v label="$label" -v total="$total" -v start="$(date +%s)" '
    /^go: downloading/ { print "  " $0 > "/dev/stderr"; fflush("/dev/stderr"); next }
    /^[A-Za-z0-9._~\/-]+$/ { n++; now=systime();
        if (n % 40 == 0 || now - last >= 10) { printf "  %s: %d/%d compiled (%ds)\n", label, n, total, now-start > "/dev/stderr"; fflush("/dev/stderr"); last=now }
        next }
    { print > "/dev/stderr"; fflush("/dev/stderr") }
    END { printf "  %s: %d packages compiled (rest from GOCACHE) in %ds\n", label, n, systime()-start > "/dev/stderr" }'
  rc=${PIPESTATUS[0]}
  set -e
  log "$label: go build rc=$rc in $((SECONDS - start)) s"
  return "$rc"
}

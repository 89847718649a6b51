#!/usr/bin/env bash
# Run kwok (kubelet simulator) against the prototype cluster and create fake nodes.
# usage: kwok.sh start | nodes N | stop
set -euo pipefail
source "$(dirname "$0")/env.sh"
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
KWOK_MOD=$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION
# kwok v0.8.0 has NO built-in default stages ("no stages found" otherwise): pass the upstream stage files straight from
# the module cache (same set kwokctl uses: node-initialize, node-heartbeat-with-lease, pod-ready/complete/delete).
STAGES=$KWOK_MOD/kustomize/stage/node/fast/node-initialize.yaml
STAGES+=,$KWOK_MOD/kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
STAGES+=,$KWOK_MOD/kustomize/stage/pod/fast/pod-ready.yaml
STAGES+=,$KWOK_MOD/kustomize/stage/pod/fast/pod-complete.yaml
STAGES+=,$KWOK_MOD/kustomize/stage/pod/fast/pod-delete.yaml

case ${1:-} in
start)
  [[ -d $KWOK_MOD ]] || go mod download "sigs.k8s.io/kwok@$KWOK_VERSION"
  nsenter --net="/run/netns/$NS" -- setsid "$KWOK_BIN/kwok" \
    --kubeconfig="$KCFG" --config="$STAGES" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --cidr=198.19.255.0/24 --node-lease-duration-seconds=40 \
    --server-address=127.0.0.1:10247 > "$RUN/logs/kwok.log" 2>&1 < /dev/null &
  echo $! > "$RUN/pids/kwok"; log "started kwok pid $!"
  for _ in $(seq 100); do inns curl -fsS -o /dev/null http://127.0.0.1:10247/healthz 2>/dev/null && { log "kwok healthy"; exit 0; }; sleep 0.1; done
  log "kwok not healthy"; tail "$RUN/logs/kwok.log"; exit 1 ;;
nodes)
  n=${2:-3}
  for i in $(seq 1 "$n"); do
    # Node as a kubelet would register it: InternalIP = the node host's lab address, no taint.
    kc apply -f - <<EOF
apiVersion: v1
kind: Node
metadata:
  name: node$i
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels:
    kubernetes.io/hostname: node$i
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    topology.kubernetes.io/zone: zone$i
    type: kwok
status:
  addresses:
  - {type: InternalIP, address: 198.51.100.1$i}
  - {type: Hostname, address: node$i}
EOF
  done ;;
stop)
  [[ -f $RUN/pids/kwok ]] && kill "$(cat "$RUN/pids/kwok")" && rm -f "$RUN/pids/kwok" && log "stopped kwok" ;;
*) echo "usage: $0 start|nodes N|stop" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Start/stop a real control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) inside the
# network namespace $NS (everything listens on 127.0.0.1 or on addresses of that netns only).
# usage: cluster.sh up | down | status | kubectl ARGS...
set -euo pipefail
source "$(dirname "$0")/env.sh"
mkdir -p "$RUN/logs" "$RUN/pids"

ts() { date +%s.%N; }
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

start() {  # start NAME CMD... : background process inside the netns, pid in $RUN/pids/NAME
  local name=$1; shift
  # not via the inns() function: a backgrounded function is a bash subshell and $! would be that bash
  nsenter --net="/run/netns/$NS" -- setsid "$@" > "$RUN/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$RUN/pids/$name"
  log "started $name pid $(cat "$RUN/pids/$name")"
}

wait_http() {  # wait_http NAME URL TIMEOUT [curl args]
  local name=$1 url=$2 to=$3; shift 3
  local t0; t0=$(ts)
  for ((i = 0; i < to * 10; i++)); do
    if inns curl -fsS --max-time 1 "$@" "$url" > /dev/null 2>&1; then
      log "$name ready after $(echo "$(ts) - $t0" | bc | cut -c1-5) s"; return 0
    fi
    if ! kill -0 "$(cat "$RUN/pids/$name")" 2>/dev/null; then log "$name died"; tail -20 "$RUN/logs/$name.log"; return 1; fi
    sleep 0.1
  done
  log "$name not ready after $to s"; tail -20 "$RUN/logs/$name.log"; return 1
}

kubeconfig() {
  cat > "$KCFG" <<EOF
apiVersion: v1
kind: Config
clusters:
- cluster: {certificate-authority: $RUN/pki/ca.crt, server: "https://$API_IP:6443"}
  name: proto
users:
- name: admin
  user: {client-certificate: $RUN/pki/admin.crt, client-key: $RUN/pki/admin.key}
contexts:
- context: {cluster: proto, user: admin}
  name: proto
current-context: proto
EOF
}

up() {
  local T0; T0=$(ts)
  if ! ip netns list | grep -qw "$NS"; then   # standalone (no lab.sh): API address on lo
    ip netns add "$NS"
    inns ip link set lo up
    inns ip addr add "$API_IP/32" dev lo
  fi
  "$PROTO/scripts/mk-pki.sh" "$RUN/pki" "$API_IP" "$SVC_API_IP" >&2
  kubeconfig
  start etcd "$ETCD_BIN/etcd" --name proto --data-dir "$RUN/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster proto=http://127.0.0.1:2380 --listen-metrics-urls http://127.0.0.1:2381 \
    --unsafe-no-fsync=true --quota-backend-bytes=2147483648
  wait_http etcd http://127.0.0.1:2379/health 30
  local P=$RUN/pki
  start kube-apiserver "$K8S_BIN/kube-apiserver" \
    --etcd-servers=http://127.0.0.1:2379 \
    --bind-address="$API_IP" --secure-port=6443 --advertise-address="$API_IP" \
    --requestheader-client-ca-file="$P/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$P/front-proxy-client.crt" --proxy-client-key-file="$P/front-proxy-client.key" \
    --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key" \
    --client-ca-file="$P/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$P/sa.pub" --service-account-signing-key-file="$P/sa.key" \
    --service-cluster-ip-range="$SVC_CIDR" \
    --authorization-mode=Node,RBAC --allow-privileged=true \
    --enable-aggregator-routing=true \
    --profiling=false
  wait_http kube-apiserver https://$API_IP:6443/readyz 120 --cacert "$P/ca.crt" --cert "$P/admin.crt" --key "$P/admin.key"
  start kube-controller-manager "$K8S_BIN/kube-controller-manager" \
    --kubeconfig="$KCFG" --authentication-kubeconfig="$KCFG" --authorization-kubeconfig="$KCFG" \
    --bind-address=127.0.0.1 --secure-port=10257 --leader-elect=false \
    --root-ca-file="$P/ca.crt" --service-account-private-key-file="$P/sa.key" \
    --use-service-account-credentials=true \
    --cluster-cidr="$POD_CIDR" --allocate-node-cidrs=true --node-cidr-mask-size=24 \
    --service-cluster-ip-range="$SVC_CIDR" --controllers='*'
  start kube-scheduler "$K8S_BIN/kube-scheduler" \
    --kubeconfig="$KCFG" --authentication-kubeconfig="$KCFG" --authorization-kubeconfig="$KCFG" \
    --bind-address=127.0.0.1 --secure-port=10259 --leader-elect=false
  wait_http kube-controller-manager https://127.0.0.1:10257/healthz 60 -k
  wait_http kube-scheduler https://127.0.0.1:10259/healthz 60 -k
  log "control plane up in $(echo "$(ts) - $T0" | bc | cut -c1-5) s"
}

down() {
  local f pid
  for f in "$RUN"/pids/*; do
    [[ -f $f ]] || continue
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then kill "$pid"; log "stopped $(basename "$f") pid $pid"; fi
    rm -f "$f"
  done
  sleep 1
  if ip netns list | grep -qw "$NS" && ! ip netns list | grep -qw k8sp-sw; then   # lab.sh down owns the lab netns
    # anything still inside our own netns (only ours): kill by pid
    for pid in $(ip netns pids "$NS"); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$NS"; log "deleted netns $NS"
  fi
}

case ${1:-} in
  up) up ;;
  down) down ;;
  status) for f in "$RUN"/pids/*; do [[ -f $f ]] && printf '%-26s %s %s\n' "$(basename "$f")" "$(cat "$f")" "$(kill -0 "$(cat "$f")" 2>/dev/null && echo alive || echo dead)"; done ;;
  kubectl) shift; kc "$@" ;;
  *) echo "usage: $0 up|down|status|kubectl ..." >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# One real kube-proxy (nftables mode) per node netns k8sp-nI, as nodeI. Needs the `nft` binary (Debian: nftables).
# usage: kube-proxy.sh start N | stop
set -euo pipefail
source "$(dirname "$0")/env.sh"
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
case ${1:-} in
start)
  n=${2:-3}
  kc -n kube-system create serviceaccount kube-proxy --dry-run=client -o yaml | kc apply -f - > /dev/null
  kc create clusterrolebinding k8sp-kube-proxy --clusterrole=system:node-proxier --serviceaccount=kube-system:kube-proxy \
    --dry-run=client -o yaml | kc apply -f - > /dev/null
  token=$(kc -n kube-system create token kube-proxy --duration=24h)
  cat > "$RUN/kube-proxy.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- cluster: {certificate-authority: $RUN/pki/ca.crt, server: "https://$API_IP:6443"}
  name: proto
users:
- name: kube-proxy
  user: {token: $token}
contexts:
- context: {cluster: proto, user: kube-proxy}
  name: proto
current-context: proto
EOF
  chmod 600 "$RUN/kube-proxy.kubeconfig"
  for i in $(seq 1 "$n"); do
    nsenter --net="/run/netns/k8sp-n$i" -- setsid "$K8S_BIN/kube-proxy" --kubeconfig="$RUN/kube-proxy.kubeconfig" \
      --hostname-override="node$i" --proxy-mode=nftables --cluster-cidr="$POD_CIDR" \
      --healthz-bind-address=127.0.0.1:10256 --metrics-bind-address=127.0.0.1:10249 \
      --conntrack-max-per-core=0 \
      > "$RUN/logs/kube-proxy-node$i.log" 2>&1 < /dev/null &
    echo $! > "$RUN/pids/kube-proxy-node$i"; log "started kube-proxy node$i pid $!"
  done ;;
stop)
  for f in "$RUN"/pids/kube-proxy-*; do [[ -f $f ]] && { kill "$(cat "$f")" 2>/dev/null || true; rm -f "$f"; }; done ;;
*) echo "usage: $0 start N|stop" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Real MetalLB speakers (native BGP), one per node netns k8sp-nI, each with its Node's name and the name of the
# speaker pod kwok runs on that node, talking to the apiserver at https://$API_IP:6443 through the lab segment.
# usage: speaker.sh start N | stop
set -euo pipefail
source "$(dirname "$0")/env.sh"
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
MNS=metallb-system
case ${1:-} in
start)
  n=${2:-3}
  token=$(kc -n "$MNS" create token speaker --duration=24h)
  cat > "$RUN/metallb/speaker.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- cluster: {certificate-authority: $RUN/pki/ca.crt, server: "https://$API_IP:6443"}
  name: proto
users:
- name: speaker
  user: {token: $token}
contexts:
- context: {cluster: proto, user: speaker, namespace: $MNS}
  name: proto
current-context: proto
EOF
  chmod 600 "$RUN/metallb/speaker.kubeconfig"
  # memberlist ON like in a real cluster: kwok gives the hostNetwork speaker pods podIP = node InternalIP, which is
  # exactly the address the speaker has in its node netns, so pod-list discovery + gossip on :7946 work unchanged.
  ml=()
  if [[ ${MEMBERLIST:-1} == 1 ]]; then
    mkdir -p "$RUN/metallb/ml"
    kc -n "$MNS" get secret memberlist -o jsonpath='{.data.secretkey}' | base64 -d > "$RUN/metallb/ml/secretkey"
    chmod 600 "$RUN/metallb/ml/secretkey"
    ml=(METALLB_ML_LABELS=app=metallb,component=speaker METALLB_ML_SECRET_KEY_PATH="$RUN/metallb/ml")
  fi
  for i in $(seq 1 "$n"); do
    node=node$i
    nodeip=$(kc get node "$node" -o jsonpath='{.status.addresses[?(@.type=="InternalIP")].address}')
    [[ ${MEMBERLIST:-1} == 1 ]] && mlb=(METALLB_ML_BIND_ADDR="$nodeip") || mlb=()
    pod=$(kc -n "$MNS" get pod -l component=speaker --field-selector "spec.nodeName=$node" -o jsonpath='{.items[0].metadata.name}')
    # BGP type native (METALLB_BGP_TYPE unset)
    nsenter --net="/run/netns/k8sp-n$i" -- setsid env -i PATH=/usr/bin:/bin \
      METALLB_NODE_NAME=$node METALLB_POD_NAME="$pod" METALLB_NAMESPACE=$MNS "${ml[@]}" "${mlb[@]}" \
      "$METALLB_BIN/speaker" --kubeconfig="$RUN/metallb/speaker.kubeconfig" --port=9120 --log-level=${SPEAKER_LOG_LEVEL:-info} \
      > "$RUN/logs/speaker-$node.log" 2>&1 < /dev/null &
    echo $! > "$RUN/pids/speaker-$node"; log "started speaker for $node (pod $pod) pid $! in netns k8sp-n$i"
  done ;;
stop)
  for f in "$RUN"/pids/speaker-*; do [[ -f $f ]] && { kill "$(cat "$f")" 2>/dev/null || true; rm -f "$f"; }; done ;;
*) echo "usage: $0 start N|stop" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# MetalLB on the prototype cluster: manifest from the Go module cache, real controller process serving the webhook
# on the (kwok-run) controller pod's IP inside the control-plane netns.
# usage: metallb.sh apply | controller-start | controller-stop
set -euo pipefail
source "$(dirname "$0")/env.sh"
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
MOD_DIR=$(go env GOMODCACHE)/go.universe.tf/metallb@$METALLB_VERSION
MNS=metallb-system
mkdir -p "$RUN/metallb"

# kubeconfig for a MetalLB ServiceAccount (so the manifest's RBAC is exercised, not system:masters)
sa_kubeconfig() {
  local sa=$1 out=$2 token
  token=$(kc -n "$MNS" create token "$sa" --duration=24h)
  cat > "$out" <<EOF
apiVersion: v1
kind: Config
clusters:
- cluster: {certificate-authority: $RUN/pki/ca.crt, server: "${3:-https://$API_IP:6443}"}
  name: proto
users:
- name: $sa
  user: {token: $token}
contexts:
- context: {cluster: proto, user: $sa, namespace: $MNS}
  name: proto
current-context: proto
EOF
  chmod 600 "$out"
}

# Emulates the kubelet's secret volume: the controller's cert rotator writes Secret metallb-webhook-cert and then
# WAITS until tls.crt/tls.key appear in --cert-dir (in a pod the kubelet projects the secret there). Out of cluster
# nobody does that, so the webhook server never starts. This loop projects the secret into the dir (atomic rename).
project_secret() {
  local dir=$1 last="" data
  mkdir -p "$dir"
  while sleep 0.5; do
    data=$(kc -n "$MNS" get secret metallb-webhook-cert -o json 2>/dev/null | jq -c '.data // {}') || continue
    [[ $data == "$last" || $(jq -r '."tls.crt" // empty' <<<"$data") == "" ]] && continue
    local tmp; tmp=$(mktemp -d "$dir/.tmp.XXXX")
    for k in ca.crt tls.crt tls.key; do jq -r --arg k "$k" '.[$k] // empty' <<<"$data" | base64 -d > "$tmp/$k"; done
    for k in ca.crt tls.crt tls.key; do mv -f "$tmp/$k" "$dir/$k"; done
    rmdir "$tmp"; last=$data
    log "projected secret metallb-webhook-cert into $dir"
  done
}

case ${1:-} in
apply)
  [[ -d $MOD_DIR ]] || go mod download "go.universe.tf/metallb@$METALLB_VERSION"
  kc apply --server-side -f "$MOD_DIR/config/manifests/metallb-native.yaml" ;;
controller-start)
  kc -n "$MNS" wait pod -l component=controller --for=condition=Ready --timeout=60s > /dev/null
  pod=$(kc -n "$MNS" get pod -l component=controller -o jsonpath='{.items[0].metadata.name}')
  ip=$(kc -n "$MNS" get pod "$pod" -o jsonpath='{.status.podIP}')
  # put the pod IP on an interface inside the netns: the apiserver (aggregator routing) dials endpoint IP:9443
  inns ip addr replace "$ip/32" dev lo
  sa_kubeconfig controller "$RUN/metallb/controller.kubeconfig"
  log "controller pod $pod ip $ip"
  # MetalLB's webhook server always reads controller-runtime's default /tmp/k8s-webhook-server/serving-certs
  # (webhook.Options has no CertDir), while --cert-dir only tells the cert rotator where to wait for the files.
  # So keep --cert-dir at that default and give the controller a private mount namespace whose /tmp is ours.
  mkdir -p "$RUN/metallb/tmp/k8s-webhook-server/serving-certs"
  nsenter --net="/run/netns/$NS" -- setsid unshare --mount --propagation private -- \
    sh -c 'mount --bind "$0" /tmp && exec "$@"' "$RUN/metallb/tmp" \
    env -i PATH=/usr/bin:/bin \
    METALLB_NAMESPACE=$MNS METALLB_POD_NAME="$pod" METALLB_ML_SECRET_NAME=memberlist METALLB_DEPLOYMENT=controller \
    "$METALLB_BIN/controller" --kubeconfig="$RUN/metallb/controller.kubeconfig" \
    --port=9120 --log-level=info --cert-dir=/tmp/k8s-webhook-server/serving-certs \
    > "$RUN/logs/metallb-controller.log" 2>&1 < /dev/null &
  echo $! > "$RUN/pids/metallb-controller"; log "started metallb controller pid $!"
  project_secret "$RUN/metallb/tmp/k8s-webhook-server/serving-certs" >> "$RUN/logs/secret-projector.log" 2>&1 < /dev/null &
  echo $! > "$RUN/pids/secret-projector"; log "started secret projector pid $!"
  T0=$(date +%s.%N)
  for _ in $(seq 300); do
    if inns curl -fsS -o /dev/null --max-time 1 -k "https://$ip:9443/" 2>/dev/null || \
       [[ $(inns curl -s -o /dev/null -w '%{http_code}' --max-time 1 -k "https://$ip:9443/" 2>/dev/null) == 404 ]]; then
      cb=$(kc get validatingwebhookconfiguration metallb-webhook-configuration -o jsonpath='{.webhooks[0].clientConfig.caBundle}')
      if [[ -n $cb ]]; then log "webhook serving on $ip:9443 and caBundle injected after $(echo "$(date +%s.%N) - $T0" | bc | cut -c1-5) s"; exit 0; fi
    fi
    sleep 0.1
  done
  log "controller webhook not ready"; tail -20 "$RUN/logs/metallb-controller.log"; exit 1 ;;
controller-stop)
  for p in secret-projector metallb-controller; do
    [[ -f $RUN/pids/$p ]] && kill "$(cat "$RUN/pids/$p")" 2>/dev/null; rm -f "$RUN/pids/$p"; log "stopped $p"
  done ;;
*) echo "usage: $0 apply|controller-start|controller-stop" >&2; exit 2 ;;
esac

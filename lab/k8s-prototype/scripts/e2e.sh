#!/usr/bin/env bash
# End-to-end prototype: cached builds -> netns lab -> real control plane -> kwok nodes -> real MetalLB controller
# (webhook called by the apiserver) -> real speakers in node netns peering BGP with FRR and answering ARP.
# usage: e2e.sh [keep]     (without "keep" everything is torn down at the end)
set -euo pipefail
S=$(cd "$(dirname "$0")" && pwd)
source "$S/env.sh"
T_ALL=$(date +%s.%N)
step() { STEP=$1; T_STEP=$(date +%s.%N); printf '\n=== %s\n' "$1" >&2; }
done_step() { printf '=== %s: %.2f s\n' "$STEP" "$(echo "$(date +%s.%N) - $T_STEP" | bc)" >&2; }
wait_for() {  # wait_for DESC TIMEOUT CMD...
  local d=$1 to=$2; shift 2; local t0; t0=$(date +%s.%N)
  for ((i = 0; i < to * 5; i++)); do if "$@" > /dev/null 2>&1; then printf '  %s after %.2f s\n' "$d" "$(echo "$(date +%s.%N) - $t0" | bc)" >&2; return 0; fi; sleep 0.2; done
  echo "  TIMEOUT: $d" >&2; return 1
}
cleanup() { [[ ${1:-} == keep ]] && return 0; "$S/kube-proxy.sh" stop || true; "$S/speaker.sh" stop || true; "$S/lab.sh" frr-stop || true
  "$S/metallb.sh" controller-stop || true; "$S/kwok.sh" stop || true; "$S/cluster.sh" down || true; "$S/lab.sh" down || true; }
trap 'echo "FAILED in step: ${STEP:-?}" >&2; cleanup "${KEEP:-}"' ERR
KEEP=${1:-}

step builds
"$S/build-k8s.sh" "$K8S_VERSION"
"$S/build-etcd.sh" "$ETCD_VERSION"
"$S/build-mod.sh" kwok sigs.k8s.io/kwok "$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok
"$S/build-mod.sh" metallb go.universe.tf/metallb "$METALLB_VERSION" go.universe.tf/metallb/controller go.universe.tf/metallb/speaker
done_step

step lab;            rm -rf "$RUN"; "$S/lab.sh" up 3; done_step
step control-plane;  "$S/cluster.sh" up; kc get --raw /version | jq -c '{gitVersion,gitCommit}'; done_step
step kwok-nodes
"$S/kwok.sh" start; "$S/kwok.sh" nodes 3
wait_for "3 nodes Ready" 60 bash -c "source $S/env.sh; [ \$(kc get nodes --no-headers | grep -c ' Ready') = 3 ]"
kc apply -f "$PROTO/manifests/spread.yaml"; kc rollout status deploy/spread --timeout=60s
kc get pods -l app=spread -o wide --no-headers | awk '{print "  " $1, $3, $6, $7}'
kc get endpointslices -l kubernetes.io/service-name=spread -o json | jq -c '[.items[].endpoints[] | {ip:.addresses[0], node:.nodeName, ready:.conditions.ready}]'
done_step

step metallb-controller
"$S/metallb.sh" apply > /dev/null
"$S/metallb.sh" controller-start
kc apply -f "$PROTO/manifests/metallb-config.yaml"
if kc apply -f "$PROTO/manifests/pool-b-overlap.yaml" 2> "$RUN/overlap.err"; then echo "overlap NOT refused" >&2; false; fi
echo "  refused: $(cat "$RUN/overlap.err")"
done_step

step speakers-frr
"$S/lab.sh" frr-start
"$S/speaker.sh" start 3
# Create LB services only once every speaker has loaded its config (ConfigurationState speaker-nodeX = Valid):
# creating them while speakers are still starting left the L2 service unannounced by all speakers (see FINDINGS).
if [[ ${NO_SPEAKER_WAIT:-} != 1 ]]; then
  wait_for "3 speakers report config Valid" 60 bash -c "source $S/env.sh; [ \$(kc -n metallb-system get configurationstates -l metallb.io/component-type=speaker -o json | jq '[.items[] | select(.status.result==\"Valid\")] | length') = 3 ]"
fi
kc apply -f "$PROTO/manifests/lb-svcs.yaml"
wait_for "spread-bgp has an IP" 30 bash -c "source $S/env.sh; [ -n \"\$(kc get svc spread-bgp -o jsonpath='{.status.loadBalancer.ingress[0].ip}')\" ]"
wait_for "spread-l2 has an IP" 30 bash -c "source $S/env.sh; [ -n \"\$(kc get svc spread-l2 -o jsonpath='{.status.loadBalancer.ingress[0].ip}')\" ]"
BGP_IP=$(kc get svc spread-bgp -o jsonpath='{.status.loadBalancer.ingress[0].ip}')
L2_IP=$(kc get svc spread-l2 -o jsonpath='{.status.loadBalancer.ingress[0].ip}')
echo "  spread-bgp=$BGP_IP spread-l2=$L2_IP"
wait_for "3 BGP sessions Established on rtr" 60 bash -c "$S/lab.sh vtysh -c 'show bgp summary json' | jq -e '[.ipv4Unicast.peers[] | select(.state==\"Established\")] | length == 3'"
wait_for "rtr kernel route $BGP_IP has 3 nexthops" 60 bash -c "[ \$(ip -n k8sp-rtr route show $BGP_IP | grep -c 'nexthop via') = 3 ]"
ip -n k8sp-rtr route show "$BGP_IP" | sed 's/^/  /'
"$S/lab.sh" vtysh -c 'show bgp summary json' | jq -c '[.ipv4Unicast.peers | to_entries[] | {peer:.key, state:.value.state, pfxRcd:.value.pfxRcd}]'
wait_for "ARP reply for $L2_IP" 30 ip netns exec k8sp-rtr arping -c 1 -w 1 -I eth0 "$L2_IP"
ip netns exec k8sp-rtr arping -c 3 -I eth0 "$L2_IP" | sed 's/^/  /' || true
mac=$(ip netns exec k8sp-rtr arping -c 1 -w 1 -I eth0 "$L2_IP" | sed -n 's/.*\[\([0-9A-F:]*\)\].*/\1/p' | head -1)
for i in 1 2 3; do m=$(ip -n "k8sp-n$i" -j link show eth0 | jq -r '.[0].address' | tr a-f A-F); [[ $m == "$mac" ]] && echo "  ARP answered by node$i ($m)"; done
kc get events --field-selector reason=nodeAssigned -o jsonpath='{range .items[*]}  {.involvedObject.name}: {.message}{"\n"}{end}'
kc -n metallb-system get servicel2statuses -o jsonpath='{range .items[*]}  l2status {.status.serviceName} node={.status.node}{"\n"}{end}' 2>/dev/null || true
done_step

if [[ ${KUBE_PROXY:-1} == 1 ]]; then
step kube-proxy
"$S/kube-proxy.sh" start 3
wait_for "kube-proxy node1 healthz" 30 ip netns exec k8sp-n1 curl -fsS http://127.0.0.1:10256/healthz
SVC_IP=$(kc get svc spread-bgp -o jsonpath='{.spec.clusterIP}')
wait_for "node1 nftables has $SVC_IP and $BGP_IP" 30 bash -c "ip netns exec k8sp-n1 nft list table ip kube-proxy | grep -q $SVC_IP && ip netns exec k8sp-n1 nft list table ip kube-proxy | grep -q $BGP_IP"
ip netns exec k8sp-n1 nft list table ip kube-proxy | grep -E "$BGP_IP|$SVC_IP|198\.18\.[0-9]+\.1 " | head -8 | sed 's/^/  /'
done_step
fi

printf '\nE2E OK in %.1f s\n' "$(echo "$(date +%s.%N) - $T_ALL" | bc)" >&2
cleanup "$KEEP"

#!/usr/bin/env bash
# Minimal netns lab for the prototype (own names, prefix k8sp-): bridge netns k8sp-sw, router k8sp-rtr (.1, FRR),
# control plane k8sp (.2), nodes k8sp-n1..nN (.11..), all on 198.51.100.0/24. Nothing is put in the root netns.
# usage: lab.sh up [N] | frr-start | frr-stop | vtysh ARGS | down
set -euo pipefail
source "$(dirname "$0")/env.sh"
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
FRR_DIR=/run/k8sp/rtr          # FRR drops to user frr: cannot traverse /root, so keep its files under /run
mkdir -p "$RUN/pids" "$RUN/logs"

link() {  # link NS IP/PFX : veth from the bridge netns into NS as eth0
  local ns=$1 addr=$2
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n k8sp-sw link add "${ns#k8sp-}" type veth peer name eth0 netns "$ns"
  ip -n k8sp-sw link set "${ns#k8sp-}" master br0 up
  ip -n "$ns" addr add "$addr" dev eth0
  ip -n "$ns" link set eth0 up
}

up() {
  local n=${1:-3} i
  for ns in k8sp-sw k8sp-rtr "$NS"; do ip netns list | grep -qw "$ns" && { log "$ns exists"; exit 1; }; done
  ip netns add k8sp-sw
  ip netns exec k8sp-sw sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n k8sp-sw link add br0 type bridge
  ip -n k8sp-sw link set br0 up
  link k8sp-rtr 198.51.100.1/24
  ip netns exec k8sp-rtr sysctl -qw net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=1
  link "$NS" "$API_IP/24"
  for i in $(seq 1 "$n"); do link "k8sp-n$i" "198.51.100.1$i/24"; done
  log "lab up: k8sp-sw k8sp-rtr $NS k8sp-n1..n$n"
}

frr_start() {
  mkdir -p "$FRR_DIR"; chown frr:frr "$FRR_DIR"
  local n; n=$(ip netns list | grep -c '^k8sp-n')
  {
    echo "frr defaults traditional"; echo "hostname rtr"; echo "log stdout informational"; echo "no ipv6 forwarding"; echo "!"
    echo "router bgp 64501"
    echo " bgp router-id 198.51.100.1"
    echo " no bgp ebgp-requires-policy"
    echo " no bgp default ipv4-unicast"
    echo " neighbor NODES peer-group"
    echo " neighbor NODES remote-as 64500"
    echo " neighbor NODES timers 3 9"
    for i in $(seq 1 "$n"); do echo " neighbor 198.51.100.1$i peer-group NODES"; done
    echo " address-family ipv4 unicast"
    echo "  neighbor NODES activate"
    echo "  maximum-paths 8"
    echo " exit-address-family"
  } > "$FRR_DIR/frr.conf"
  chown frr:frr "$FRR_DIR/frr.conf"
  for d in zebra bgpd; do
    local extra=(); [[ $d == bgpd ]] && extra=(-l 198.51.100.1)
    nsenter --net=/run/netns/k8sp-rtr -- setsid /usr/lib/frr/$d -f "$FRR_DIR/frr.conf" -i "$FRR_DIR/$d.pid" \
      -z "$FRR_DIR/zserv.api" --vty_socket "$FRR_DIR" -u frr -g frr "${extra[@]}" \
      > "$RUN/logs/frr-$d.log" 2>&1 < /dev/null &
    echo $! > "$RUN/pids/frr-$d"; log "started $d pid $!"
    sleep 0.5
  done
}

case ${1:-} in
  up) up "${2:-3}" ;;
  frr-start) frr_start ;;
  frr-stop) for d in bgpd zebra; do [[ -f $RUN/pids/frr-$d ]] && kill "$(cat "$RUN/pids/frr-$d")" 2>/dev/null; rm -f "$RUN/pids/frr-$d"; done; sleep 0.5; rm -rf "$FRR_DIR" ;;
  vtysh) shift; vtysh --vty_socket "$FRR_DIR" "$@" ;;
  down)
    for ns in $(ip netns list | awk '{print $1}' | grep -E "^(k8sp-(sw|rtr|n[0-9]+)|$NS)$"); do
      for pid in $(ip netns pids "$ns"); do kill "$pid" 2>/dev/null || true; done
    done
    sleep 1
    for ns in $(ip netns list | awk '{print $1}' | grep -E "^(k8sp-(sw|rtr|n[0-9]+)|$NS)$"); do
      for pid in $(ip netns pids "$ns"); do kill -9 "$pid" 2>/dev/null || true; done
      ip netns del "$ns"; log "deleted netns $ns"
    done
    rm -rf /run/k8sp ;;
  *) echo "usage: $0 up [N]|frr-start|frr-stop|vtysh ARGS|down" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Install the Debian packages the lab and the integration tests need.
# Idempotent: packages already present are not touched, so a warm machine
# spends no time here. Needs root (the lab builds network namespaces anyway).
set -euo pipefail

packages=(
  frr frr-pythontools        # the lab router and the stand-in node speakers
  iputils-arping             # leader_verify's default prober
  ndisc6                     # leader_verify's tool backend for IPv6 VIPs (NDP)
  iputils-ping               # the lab tests ping across the segment
  openssh-server             # one sshd per lab host: Ansible reaches hosts over SSH
  netcat-openbsd             # ProxyCommand into a lab namespace
  iproute2 util-linux procps # ip netns, nsenter/unshare, ps
  shellcheck                 # ansible-test sanity checks our shell scripts with it
  openssl curl               # the lab cluster's certificates and health checks
  nftables                   # kube-proxy (nftables mode) in the lab nodes
  chromium fonts-liberation  # the browser mermaid-cli drives to render the report's diagrams (tools/install-mermaid.sh)
)
# Node.js and npm for mermaid-cli: Debian's, unless the machine already has a node and npm
# (NodeSource's nodejs package ships npm itself and conflicts with Debian's npm).
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done

if ((${#missing[@]})); then
  echo "setup-system: installing ${missing[*]}"
  # Package scripts must not start FRR or sshd in the machine's own namespace:
  # the lab starts its daemons itself, inside its namespaces. policy-rc.d is the
  # Debian way to say so; only add one for the install if the machine has none.
  own_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    own_policy=1
  fi
  trap '((own_policy)) && rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Thomas Habets' arping conflicts with iputils-arping in Debian (both own
# /usr/sbin/arping), so it is unpacked beside the project instead of installed:
# leader_verify supports both tools and the unit tests replay both formats.
habets_dir="${HABETS_ARPING_DIR:-.cache/habets-arping}"
if [[ ! -x "$habets_dir/usr/sbin/arping" ]]; then
  dpkg-query -W -f='${Status}' libnet1 2>/dev/null | grep -q 'install ok installed' \
    || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libnet1 libpcap0.8 >/dev/null
  tmp=$(mktemp -d)
  chown _apt "$tmp" 2>/dev/null || true  # apt downloads as its _apt user
  (cd "$tmp" && apt-get download -qq arping >/dev/null)
  mkdir -p "$habets_dir"
  dpkg-deb -x "$tmp"/arping_*.deb "$habets_dir"
  rm -rf "$tmp"
fi
echo "setup-system: ok"

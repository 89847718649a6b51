# shellcheck shell=bash
# Versions and paths for the prototype (source me).
PROTO=${PROTO:-/root/k8s-proto}
K8S_VERSION=${K8S_VERSION:-v1.37.1}
ETCD_VERSION=${ETCD_VERSION:-v3.7.3}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
METALLB_VERSION=${METALLB_VERSION:-v0.16.1}
GOVER=$(go env GOVERSION)
K8S_BIN=$PROTO/bin/k8s-$K8S_VERSION-$GOVER
ETCD_BIN=$PROTO/bin/etcd-$ETCD_VERSION-$GOVER
KWOK_BIN=$PROTO/bin/kwok-$KWOK_VERSION-$GOVER
METALLB_BIN=$PROTO/bin/metallb-$METALLB_VERSION-$GOVER
RUN=${RUN:-$PROTO/run}
NS=${NS:-k8sp}                       # netns holding the whole control plane
API_IP=198.51.100.2                  # apiserver advertise address (lab segment), on lo of $NS
POD_CIDR=198.18.0.0/17               # cluster CIDR; KCM hands out a /24 per node
SVC_CIDR=198.18.128.0/17             # service CIDR
SVC_API_IP=198.18.128.1              # first IP = kubernetes.default
KCFG=$RUN/pki/admin.kubeconfig
inns() { nsenter --net=/run/netns/$NS -- "$@"; }
kc() { inns "$K8S_BIN/kubectl" --kubeconfig "$KCFG" "$@"; }

#!/usr/bin/env bash
# Self-made PKI with openssl for the prototype cluster.
# usage: mk-pki.sh DIR APISERVER_IP KUBERNETES_SVC_IP
set -euo pipefail
D=${1:?dir}; API_IP=${2:?apiserver lab ip}; SVC_IP=${3:?kubernetes service ip}
mkdir -p "$D"; cd "$D"
[[ -f ca.crt ]] && { echo "pki exists in $D"; exit 0; }
days=30
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt \
  -days $days -subj "/CN=k8s-proto-ca" 2>/dev/null
# sign NAME SUBJ [SAN] [EKU]
sign() {
  local name=$1 subj=$2 san=${3:-} eku=${4:-clientAuth}
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$name.key" -out "$name.csr" -subj "$subj" 2>/dev/null
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [[ -n $san ]] && echo "subjectAltName=$san"
  } > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$name.crt" -days $days \
    -extfile "$name.ext" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}
sign apiserver "/CN=kube-apiserver" \
  "IP:127.0.0.1,IP:$API_IP,IP:$SVC_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local" \
  serverAuth
sign admin "/O=system:masters/CN=kubernetes-admin"
# front-proxy (requestheader) CA + client, like kubeadm: keeps KCM/scheduler delegated authn quiet
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout front-proxy-ca.key -out front-proxy-ca.crt \
  -days $days -subj "/CN=front-proxy-ca" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout front-proxy-client.key -out front-proxy-client.csr \
  -subj "/CN=front-proxy-client" 2>/dev/null
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' > fp.ext
openssl x509 -req -in front-proxy-client.csr -CA front-proxy-ca.crt -CAkey front-proxy-ca.key -CAcreateserial \
  -out front-proxy-client.crt -days $days -extfile fp.ext 2>/dev/null
rm -f front-proxy-client.csr fp.ext
# service-account signing key pair
openssl genrsa -out sa.key 2048 2>/dev/null
openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
chmod 600 ./*.key
echo "pki written to $D"

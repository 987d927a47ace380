#!/usr/bin/env bash
# What TLS costs, ours against Apache ZooKeeper 3.8 (Debian's package, its
# Netty server) on this machine, interleaved (ours, Apache, ours, Apache):
# new sessions per second (connect, handshake, session, close) and getData
# throughput of a 1 KiB node, each plain and over TLS (TLS 1.3, ECDSA P-256
# certificates, client certificates asked for), with the same client
# (zk-client's benches/tls.rs). One JSON line per run; compare ratios.
#
#   bench/tls.sh [SECONDS]
set -euo pipefail
secs=${1:-10}
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
cargo build -q --release -p zk-server
cargo bench -q -p zk-client --bench tls --no-run 2>/dev/null
work=$(mktemp -d "${TMPDIR:-/tmp}/zk-tls-bench.XXXXXX")
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  .ci/apache-zk.sh stop "$work/apache" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# Certificates: a CA, the servers' (for 127.0.0.1), the client's.
cd "$work"
ec() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "$@" 2>/dev/null; }
ec -x509 -keyout ca.key -out ca.pem -subj "/CN=bench CA" -days 2 \
  -addext basicConstraints=critical,CA:TRUE
ec -keyout server.key -out server.csr -subj "/CN=localhost"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
  -extfile server.ext -out server.crt 2>/dev/null
cat server.key server.crt ca.pem > server.pem
ec -keyout client.key -out client.csr -subj "/CN=bench client"
printf 'extendedKeyUsage=clientAuth\n' > client.ext
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
  -extfile client.ext -out client.crt 2>/dev/null
cat client.key client.crt ca.pem > client.pem
openssl pkcs12 -export -in server.crt -inkey server.key -certfile ca.pem -out server.p12 \
  -passout pass:changeit
keytool -importkeystore -noprompt -srckeystore server.p12 -srcstoretype PKCS12 \
  -srcstorepass changeit -destkeystore server.jks -deststoretype JKS -deststorepass changeit \
  >/dev/null 2>&1
keytool -importcert -noprompt -alias ca -file ca.pem -keystore trust.jks -storetype JKS \
  -storepass changeit >/dev/null 2>&1
cd "$here"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ours_plain=$(free_port); ours_tls=$(free_port); apache_plain=$(free_port); apache_tls=$(free_port)
mkdir -p "$work/ours"
cat > "$work/ours/zoo.cfg" <<CFG
tickTime=2000
dataDir=$work/ours
clientPort=$ours_plain
clientPortAddress=127.0.0.1
secureClientPort=$ours_tls
secureClientPortAddress=127.0.0.1
maxClientCnxns=0
ssl.keyStore.location=$work/server.pem
ssl.trustStore.location=$work/ca.pem
CFG
target/release/zk-server start-foreground "$work/ours/zoo.cfg" > "$work/ours/out.log" 2>&1 &
pid=$!
.ci/apache-zk.sh start "$work/apache" "$apache_plain" "secureClientPort=$apache_tls" \
  serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory \
  "ssl.keyStore.location=$work/server.jks" ssl.keyStore.password=changeit \
  "ssl.trustStore.location=$work/trust.jks" ssl.trustStore.password=changeit >/dev/null
sleep 1

run() { # server-name mode addr [tls]
  local name=$1 mode=$2 addr=$3 tls=${4:-}
  local extra=()
  [ -n "$tls" ] && extra=(--ca "$work/ca.pem" --key "$work/client.pem")
  cargo bench -q -p zk-client --bench tls -- "$mode" "$addr" --seconds "$secs" \
    --sessions 4 --inflight 16 "${extra[@]}" 2>/dev/null | sed "s/^{/{\"server\":\"$name\",/"
}
for round in 1 2; do
  for side in ours apache; do
    if [ "$side" = ours ]; then plain=$ours_plain; tls=$ours_tls; else plain=$apache_plain; tls=$apache_tls; fi
    run "$side" connect "127.0.0.1:$plain"
    run "$side" connect "127.0.0.1:$tls" tls
    run "$side" read "127.0.0.1:$plain"
    run "$side" read "127.0.0.1:$tls" tls
  done
  echo "{\"round\":$round}"
done

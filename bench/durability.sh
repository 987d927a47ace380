#!/usr/bin/env bash
# Durability benchmark: our zk-server against Apache ZooKeeper (Debian's
# package), one after the other on this machine, through the same steps:
#   1. load N znodes (128-byte data),
#   2. 20 s of setData (1 KiB) with fsync on: throughput and latency, while
#      snapshots of the N-node tree are taken (snapCount=100000),
#   3. kill -9, restart, and time until the first read succeeds (recovery).
# One JSON line per step on stdout; compare the ratios, not the absolutes.
#
#   bench/durability.sh ZKBENCH_BINARY [ZNODES]
set -euo pipefail
zkbench=${1:?usage: durability.sh ZKBENCH_BINARY [ZNODES]}
znodes=${2:-1000000}
here=$(cd "$(dirname "$0")/.." && pwd)
server="$here/target/release/zk-server"
[ -x "$server" ] || (cd "$here" && cargo build --release -p zk-server >&2)
root=$(mktemp -d /tmp/zk-durability.XXXXXX)
apache="$here/../shared/tools/zk-apache.sh"
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  [ -x "$apache" ] && "$apache" stop /tmp/zkbase/durability >/dev/null 2>&1 || true
  rm -rf "$root"
}
trap cleanup EXIT

label() { sed "s/^{/{\"server\":\"$1\",\"step\":\"$2\",/"; }
now_ms() { date +%s%3N; }

steps() { # name port pid
  local name=$1 port=$2 watch=$3
  "$zkbench" --servers "127.0.0.1:$port" --payload 128 --sessions 8 --inflight 64 \
    load --znodes "$znodes" | label "$name" load
  "$zkbench" --servers "127.0.0.1:$port" --workload write --payload 1024 --sessions 8 \
    --inflight 16 --warmup 3 --duration 20 --watch-pids "$watch" | label "$name" write-fsync
}

# --- ours
port=21831
mkdir -p "$root/ours"
printf 'tickTime=2000\nclientPort=%s\nclientPortAddress=127.0.0.1\ndataDir=%s/ours/data\nmaxClientCnxns=0\nsnapCount=100000\n' \
  "$port" "$root" > "$root/ours/zoo.cfg"
RUST_LOG=warn "$server" start-foreground "$root/ours/zoo.cfg" 2>>"$root/ours/log" &
pid=$!
"$zkbench" --servers "127.0.0.1:$port" probe --timeout 60 > /dev/null
steps ours "$port" "$pid"
echo "{\"server\":\"ours\",\"step\":\"snapshots\",\"files\":$(ls "$root/ours/data/version-2" | grep -c '^snapshot\.')}"
kill -9 "$pid"; wait "$pid" 2>/dev/null || true
t0=$(now_ms)
RUST_LOG=warn "$server" start-foreground "$root/ours/zoo.cfg" 2>>"$root/ours/log" &
pid=$!
ok=$("$zkbench" --servers "127.0.0.1:$port" probe --timeout 300 | sed -n 's/.*"ok_unix_ms":\([0-9]*\).*/\1/p')
echo "{\"server\":\"ours\",\"step\":\"recovery\",\"znodes\":$znodes,\"ms\":$((ok - t0))}"
kill "$pid"; wait "$pid" 2>/dev/null || true
pid=

# --- Apache ZooKeeper
if [ -x "$apache" ]; then
  port=21841
  "$apache" start /tmp/zkbase/durability "$port" --heap 4g --set snapCount=100000 >&2
  apid=$(cat /tmp/zkbase/durability/node1/pid)
  steps apache "$port" "$apid"
  "$apache" kill9 /tmp/zkbase/durability 1 >&2
  while kill -0 "$apid" 2>/dev/null; do sleep 0.1; done
  "$apache" startnode /tmp/zkbase/durability 1 >&2
  t0=$(cat /tmp/zkbase/durability/node1/started_ms)
  ok=$("$zkbench" --servers "127.0.0.1:$port" probe --timeout 300 | sed -n 's/.*"ok_unix_ms":\([0-9]*\).*/\1/p')
  echo "{\"server\":\"apache\",\"step\":\"recovery\",\"znodes\":$znodes,\"ms\":$((ok - t0))}"
fi

#!/usr/bin/env bash
# Ensemble benchmark: a 3-member zk-server ensemble against a 3-member
# Apache ZooKeeper ensemble (Debian's package), one after the other on this
# machine, through the same steps:
#   1. write (setData 1 KiB, fsync on) and read throughput, sessions spread
#      over the three members;
#   2. failover: small writes every 10 ms while the leader is killed (-9);
#      the longest gap between two successful writes.
# One JSON line per step on stdout; compare the ratios, not the absolutes.
#
#   bench/ensemble.sh ZKBENCH_BINARY
set -euo pipefail
zkbench=${1:?usage: ensemble.sh ZKBENCH_BINARY}
here=$(cd "$(dirname "$0")/.." && pwd)
server="$here/target/release/zk-server"
[ -x "$server" ] || (cd "$here" && cargo build --release -p zk-server >&2)
root=$(mktemp -d /tmp/zk-ensemble.XXXXXX)
apache="$here/../shared/tools/zk-apache.sh"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  [ -x "$apache" ] && "$apache" stop /tmp/zkbase/ensemble >/dev/null 2>&1 || true
  rm -rf "$root"
}
trap cleanup EXIT
label() { sed "s/^{/{\"server\":\"$1\",\"step\":\"$2\",/"; }
srvr_mode() { timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && printf srvr >&3 && cat <&3" 2>/dev/null | sed -n 's/^Mode: //p'; }

throughput() { # name servers
  "$zkbench" --servers "$2" --workload write --payload 1024 --sessions 8 --inflight 16 \
    --warmup 3 --duration 15 | label "$1" write-fsync
  "$zkbench" --servers "$2" --workload read --payload 1024 --sessions 8 --inflight 16 \
    --warmup 3 --duration 10 | label "$1" read
}

failover() { # name servers kill-leader-command
  "$zkbench" --servers "$2" failover --timeout 20 --sessions 4 --inflight 1 --payload 64 \
    > "$root/failover.json" &
  local fb=$!
  sleep 6
  eval "$3"
  wait "$fb"
  label "$1" failover < "$root/failover.json"
}

sides=${SIDES:-ours apache}

# --- ours: three processes, ports 22181-22183
if [[ " $sides " == *" ours "* ]]; then
ports=(22181 22182 22183)
servers=127.0.0.1:22181,127.0.0.1:22182,127.0.0.1:22183
for i in 1 2 3; do
  d="$root/ours/n$i"; mkdir -p "$d"; echo "$i" > "$d/myid"
  {
    printf 'tickTime=2000\ninitLimit=10\nsyncLimit=5\nmaxClientCnxns=0\n'
    printf 'dataDir=%s\nclientPort=%s\nclientPortAddress=127.0.0.1\n4lw.commands.whitelist=*\n' "$d" "${ports[$((i-1))]}"
    for k in 1 2 3; do printf 'server.%s=127.0.0.1:%s:%s\n' "$k" $((22887+k)) $((23887+k)); done
  } > "$d/zoo.cfg"
  RUST_LOG=warn "$server" start-foreground "$d/zoo.cfg" 2>>"$d/log" &
  pids+=($!)
done
for p in "${ports[@]}"; do "$zkbench" --servers "127.0.0.1:$p" probe --timeout 60 > /dev/null; done
throughput ours "$servers"
kill_ours() {
  for i in 0 1 2; do
    if [ "$(srvr_mode "${ports[$i]}")" = leader ]; then kill -9 "${pids[$i]}"; return; fi
  done
}
failover ours "$servers" kill_ours
for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
pids=()
fi

# --- Apache ZooKeeper 3.8, same layout
[[ " $sides " == *" apache "* ]] || exit 0
"$apache" start /tmp/zkbase/ensemble 22281,22282,22283 >&2
aservers=$("$apache" servers /tmp/zkbase/ensemble)
throughput apache "$aservers"
kill_apache() { "$apache" kill9 /tmp/zkbase/ensemble "$("$apache" leader /tmp/zkbase/ensemble | cut -d' ' -f1)"; }
failover apache "$aservers" kill_apache
"$apache" stop /tmp/zkbase/ensemble >&2

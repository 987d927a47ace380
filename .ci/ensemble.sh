#!/usr/bin/env bash
# A 3-member zk-server ensemble for the client suites:
#   .ci/ensemble.sh start DIR   prints the connect string once all serve
#   .ci/ensemble.sh stop DIR
# ZK_BIN names the zk-server binary (default: built here by cargo).
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?DIR}
here=$(cd "$(dirname "$0")/.." && pwd)

free_base() { # a port P with P, P+1, P+2 free
  python3 - <<'PY'
import random, socket
while True:
    p = random.randint(20000, 50000)
    try:
        socks = []
        for i in range(3):
            s = socket.socket(); s.bind(("127.0.0.1", p + i)); socks.append(s)
        print(p); break
    except OSError:
        pass
    finally:
        for s in socks: s.close()
PY
}

mode() { timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && printf srvr >&3 && cat <&3" 2>/dev/null | sed -n 's/^Mode: //p'; }

case $cmd in
  start)
    mkdir -p "$dir"
    client=$(free_base); peer=$(free_base); election=$(free_base)
    bin=${ZK_BIN:-}
    if [ -z "$bin" ]; then
      (cd "$here" && cargo build -q -p zk-server)
      bin=$here/target/debug/zk-server
    fi
    # A short tick for quick session tests, with limits loose enough that a
    # loaded 2-core CI machine neither drops followers nor expires sessions.
    setsid "$bin" cluster --nodes 3 --dir "$dir" \
      --client-port "$client" --peer-port "$peer" --election-port "$election" \
      --set tickTime=200 --set initLimit=50 --set syncLimit=25 --set maxSessionTimeout=60000 \
      --set maxClientCnxns=0 --set extendedTypesEnabled=true \
      --set znode.container.checkIntervalMs=200 > "$dir/cluster.out" 2>&1 &
    echo $! > "$dir/pid"
    for _ in $(seq 1 300); do
      ok=0
      for i in 0 1 2; do case $(mode $((client + i))) in leader|follower) ok=$((ok + 1));; esac; done
      if [ "$ok" = 3 ]; then
        echo "127.0.0.1:$client,127.0.0.1:$((client + 1)),127.0.0.1:$((client + 2))"
        exit 0
      fi
      sleep 0.1
    done
    echo "ensemble did not settle; see $dir" >&2; exit 1;;
  stop)
    [ -f "$dir/pid" ] && kill "$(cat "$dir/pid")" 2>/dev/null || true
    sleep 1
    pkill -9 -f "zk-server start-foreground $dir" 2>/dev/null || true;;
esac

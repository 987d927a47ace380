#!/usr/bin/env bash
# The whole test suite, in three phases:
#   workspace  every test of every crate, the ignored ones too (kazoo, zkCli,
#              Curator, the disk-full test, the slow checker test);
#   apache     the client, recipe and shell suites (and the Curator interop)
#              against Apache ZooKeeper 3.8 from Debian's `zookeeper` package;
#   ensemble   the client, recipe and shell suites against our own 3-member
#              ensemble, the client connected to all three members.
# (The doc examples run in the workspace phase only: each starts its own
# in-process server, wherever ZK_SERVERS points.)
# It does not stop at the first failure. A test that cannot run here (a tool
# missing) reports itself skipped (zk-testkit's skip records); a phase that
# cannot run is skipped as a whole. The summary lists every skip with its
# reason and never counts a skipped test as passed.
#
#   ./test.sh                 all phases
#   ./test.sh workspace ...   only the phases named
#   CI=true ./test.sh         a skip is a failure (CI installs everything)
#
# Logs go to target/test-logs/<phase>.log.
set -uo pipefail
cd "$(dirname "$0")"
root=$(pwd)
logs=$root/target/test-logs
mkdir -p "$logs"
phases=("$@")
[ ${#phases[@]} -gt 0 ] || phases=(workspace apache ensemble)
ci=${CI:-false}

summary=()   # one line per phase
skipped=()   # "phase: test: reason"
failed=0
cleanup=()
trap 'for c in "${cleanup[@]}"; do eval "$c"; done' EXIT

free_port() { # a TCP port nobody listened on a moment ago
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}

# run_phase NAME ENV... -- CARGO-ARGS...: runs cargo test, counts results.
run_phase() {
  local name=$1; shift
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  local log=$logs/$name.log skips=$logs/$name.skips
  : > "$skips"
  local start=$SECONDS
  echo "== $name: cargo test $*"
  env "${envs[@]}" ZK_TEST_SKIP_LOG="$skips" cargo test "$@" 2>&1 | tee "$log" \
    | grep --line-buffered -E '^(test result:|error: |test .* FAILED|     Running|   Doc-tests)' || true
  local code=${PIPESTATUS[0]}
  local passed fails
  passed=$(grep -E '^test result:' "$log" | awk '{s += $4} END {print s + 0}')
  fails=$(grep -E '^test result:' "$log" | awk '{s += $6} END {print s + 0}')
  local nskip; nskip=$(wc -l < "$skips")
  while IFS=$'\t' read -r test reason; do
    skipped+=("$name: $test: $reason")
  done < "$skips"
  local state=ok
  if [ "$code" != 0 ] || [ "$fails" != 0 ]; then
    state=FAILED; failed=1
    # A build error or a crashed binary shows as a non-zero exit only.
    [ "$fails" != 0 ] || fails="(cargo exit $code)"
  fi
  summary+=("$(printf '%-9s %-6s %4s passed, %s failed, %s skipped  (%ss; %s)' \
    "$name" "$state" "$((passed - nskip))" "$fails" "$nskip" "$((SECONDS - start))" "target/test-logs/$name.log")")
  grep -E '^test .* FAILED$' "$log" | sed "s/^/    $name: /" >> "$logs/failures" || true
}

skip_phase() { # NAME REASON
  summary+=("$(printf '%-9s %-6s %s' "$1" skipped "$2")")
  skipped+=("$1: (whole phase): $2")
}

phase_workspace() {
  run_phase workspace -- --workspace --no-fail-fast -- --include-ignored
}

phase_apache() {
  local jars=/usr/share/java/zookeeper.jar
  if ! [ -f "$jars" ]; then
    skip_phase apache "needs Apache ZooKeeper ($jars: apt-get install zookeeper)"; return
  fi
  if ! java -version >/dev/null 2>&1; then
    skip_phase apache "needs a JVM (java) for Apache ZooKeeper"; return
  fi
  local dir port
  dir=$(mktemp -d "${TMPDIR:-/tmp}/apache-zk.XXXXXX"); port=$(free_port)
  cleanup+=(".ci/apache-zk.sh stop '$dir'")
  if ! .ci/apache-zk.sh start "$dir" "$port" > "$logs/apache-server.log" 2>&1; then
    summary+=("apache    FAILED Apache ZooKeeper did not start (target/test-logs/apache-server.log)")
    failed=1; return
  fi
  run_phase apache "ZK_SERVERS=127.0.0.1:$port" -- \
    -p zk-client -p zk-recipes -p zk-cli --tests --no-fail-fast -- --include-ignored
  .ci/apache-zk.sh stop "$dir"
}

phase_ensemble() {
  local dir servers
  dir=$(mktemp -d "${TMPDIR:-/tmp}/zk-ensemble.XXXXXX")
  cleanup+=(".ci/ensemble.sh stop '$dir'")
  if ! servers=$(.ci/ensemble.sh start "$dir" 2> "$logs/ensemble-server.log"); then
    summary+=("ensemble  FAILED our ensemble did not start (target/test-logs/ensemble-server.log)")
    failed=1; return
  fi
  run_phase ensemble "ZK_SERVERS=$servers" -- -p zk-client -p zk-recipes -p zk-cli --tests --no-fail-fast
  .ci/ensemble.sh stop "$dir"
}

: > "$logs/failures"
started=$SECONDS
for p in "${phases[@]}"; do
  case $p in
    workspace|apache|ensemble) "phase_$p";;
    *) echo "unknown phase $p (workspace, apache, ensemble)" >&2; exit 2;;
  esac
done

echo
echo "== summary ($((SECONDS - started))s)"
printf '%s\n' "${summary[@]}"
if [ -s "$logs/failures" ]; then
  echo "failed tests:"; cat "$logs/failures"
fi
if [ ${#skipped[@]} -gt 0 ]; then
  echo "skipped (${#skipped[@]}), not counted as passed:"
  printf '    %s\n' "${skipped[@]}"
  if [ "$ci" = true ]; then
    echo "CI=true: nothing may be skipped"; failed=1
  fi
fi
if [ "$failed" = 0 ]; then echo "result: PASS"; else echo "result: FAIL"; fi
exit "$failed"

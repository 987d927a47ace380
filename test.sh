#!/usr/bin/env bash
# The whole test suite, in three phases:
#   workspace  every test of every crate, the ignored ones too (kazoo, zkCli,
#              Curator, the disk-full test, the slow checker test, and the
#              container tests, for which it first builds the image
#              zk-rs:latest when a Docker engine is there);
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

# count_phase NAME CODE: counts the results in the phase's log.
count_phase() {
  local name=$1 code=$2
  local log=$logs/$name.log skips=$logs/$name.skips
  local passed fails nskip
  passed=$(grep -E '^test result:' "$log" | awk '{s += $4} END {print s + 0}')
  fails=$(grep -E '^test result:' "$log" | awk '{s += $6} END {print s + 0}')
  nskip=$(wc -l < "$skips")
  while IFS=$'\t' read -r test reason; do
    skipped+=("$name: $test: $reason")
  done < "$skips"
  local state=ok
  if [ "$code" != 0 ] || [ "$fails" != 0 ]; then
    state=FAILED; failed=1
    # A build error or a crashed binary shows as a non-zero exit only: the
    # summary shows its first lines, and the disk (a full one fails links).
    if [ "$fails" = 0 ]; then
      fails="(exit $code)"
      grep -m 8 -A 6 -E '^error' "$log" | sed "s/^/    $name: /" >> "$logs/failures" || true
      df -h "$root/target" "${TMPDIR:-/tmp}" | sed "s/^/    $name: /" >> "$logs/failures"
    fi
  fi
  summary+=("$(printf '%-9s %-6s %4s passed, %s failed, %s skipped  (%ss; %s)' \
    "$name" "$state" "$((passed - nskip))" "$fails" "$nskip" "$((SECONDS - phase_start))" "target/test-logs/$name.log")")
  grep -E '^test .* FAILED$' "$log" | sed "s/^/    $name: /" >> "$logs/failures" || true
}

# shows a phase's progress from its log as it grows
progress() {
  grep --line-buffered -E '^(test result:|error|test .* FAILED|     Running|   Doc-tests)' || true
}

# run_phase NAME ENV... -- CARGO-TEST-ARGS...: runs cargo test.
run_phase() {
  local name=$1; shift
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  local log=$logs/$name.log
  : > "$logs/$name.skips"
  phase_start=$SECONDS
  echo "== $name: cargo test $*"
  { env "${envs[@]}" ZK_TEST_SKIP_LOG="$logs/$name.skips" cargo test "$@" 2>&1
    echo $? > "$log.code"; } | tee "$log" | progress
  count_phase "$name" "$(cat "$log.code")"
}

# The test binaries of the workspace build, as "package-dir<TAB>executable"
# (test targets), and the zk-server binary as "bin<TAB>executable": the
# phases against other servers run these, so they need no build of their
# own (`cargo test -p ...` would build again with other features, and twice
# the disk).
build_tests() {
  cargo test --workspace --no-run --message-format=json-render-diagnostics 2> "$logs/build.log" \
    | python3 -c '
import json, os, sys
root = sys.argv[1]
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") != "compiler-artifact" or not m.get("executable"):
        continue
    pkg = os.path.relpath(os.path.dirname(m["manifest_path"]), root)
    if m["profile"]["test"]:
        print(pkg, m["executable"], sep="\t")
    elif m["target"]["name"] == "zk-server" and "bin" in m["target"]["kind"]:
        print("bin", m["executable"], sep="\t")
' "$root" > "$logs/binaries"
}

# run_binaries NAME ENV... -- PACKAGE-DIR...: runs the test binaries of
# those packages (from build_tests) in their package directories, as cargo
# test would.
run_binaries() {
  local name=$1; shift
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  local log=$logs/$name.log code=0
  : > "$logs/$name.skips"
  phase_start=$SECONDS
  echo "== $name: the test binaries of $* (${envs[*]})"
  : > "$log"
  while IFS=$'\t' read -r pkg exe; do
    case " $* " in *" $pkg "*) ;; *) continue;; esac
    { echo "     Running $pkg: ${exe#"$root"/}"
      (cd "$root/$pkg" && env "${envs[@]}" ZK_TEST_SKIP_LOG="$logs/$name.skips" \
        "$exe" ${RUN_ARGS:-} 2>&1) || echo "error: $pkg: ${exe##*/} exited $?"
    } | tee -a "$log" | progress
  done < "$logs/binaries"
  grep -q '^error: ' "$log" && code=1
  count_phase "$name" "$code"
}

skip_phase() { # NAME REASON
  summary+=("$(printf '%-9s %-6s %s' "$1" skipped "$2")")
  skipped+=("$1: (whole phase): $2")
}

phase_workspace() {
  # The container tests run our image: build it first where Docker runs
  # (they report themselves skipped where it does not).
  if docker version >/dev/null 2>&1; then
    echo "== building the image zk-rs:latest (deploy/build-image.sh)"
    if ! deploy/build-image.sh > "$logs/image.log" 2>&1; then
      summary+=("image     FAILED deploy/build-image.sh (target/test-logs/image.log)")
      failed=1
    fi
    # The compose file's Prometheus, from Debian's package where it is.
    if command -v prometheus >/dev/null; then
      echo "== building the image zk-rs-prometheus:latest (deploy/build-prometheus-image.sh)"
      if ! deploy/build-prometheus-image.sh >> "$logs/image.log" 2>&1; then
        summary+=("image     FAILED deploy/build-prometheus-image.sh (target/test-logs/image.log)")
        failed=1
      fi
    fi
  fi
  run_phase workspace -- --workspace --no-fail-fast -- --include-ignored
}

# builds the test binaries once, for the phases against other servers
built=
need_binaries() {
  [ -z "$built" ] || return "$built"
  echo "== building the test binaries (cargo test --workspace --no-run)"
  if build_tests && [ -s "$logs/binaries" ]; then built=0; else
    built=1; failed=1
    summary+=("build     FAILED cargo test --workspace --no-run (target/test-logs/build.log)")
    grep -m 8 -A 6 -E '^error' "$logs/build.log" | sed 's/^/    build: /' >> "$logs/failures" || true
    df -h "$root/target" | sed 's/^/    build: /' >> "$logs/failures"
  fi
  return "$built"
}

phase_apache() {
  local jars=/usr/share/java/zookeeper.jar
  if ! [ -f "$jars" ]; then
    skip_phase apache "needs Apache ZooKeeper ($jars: apt-get install zookeeper)"; return
  fi
  if ! java -version >/dev/null 2>&1; then
    skip_phase apache "needs a JVM (java) for Apache ZooKeeper"; return
  fi
  need_binaries || return
  local dir port
  dir=$(mktemp -d "${TMPDIR:-/tmp}/apache-zk.XXXXXX"); port=$(free_port)
  cleanup+=(".ci/apache-zk.sh stop '$dir'")
  if ! .ci/apache-zk.sh start "$dir" "$port" > "$logs/apache-server.log" 2>&1; then
    summary+=("apache    FAILED Apache ZooKeeper did not start (target/test-logs/apache-server.log)")
    failed=1; return
  fi
  RUN_ARGS=--include-ignored run_binaries apache "ZK_SERVERS=127.0.0.1:$port" -- zk-client recipes zk-cli
  .ci/apache-zk.sh stop "$dir"
}

phase_ensemble() {
  need_binaries || return
  local dir servers
  dir=$(mktemp -d "${TMPDIR:-/tmp}/zk-ensemble.XXXXXX")
  cleanup+=(".ci/ensemble.sh stop '$dir'")
  if ! servers=$(ZK_BIN=$(awk -F'\t' '$1 == "bin" {print $2}' "$logs/binaries") \
      .ci/ensemble.sh start "$dir" 2> "$logs/ensemble-server.log"); then
    summary+=("ensemble  FAILED our ensemble did not start (target/test-logs/ensemble-server.log)")
    failed=1; return
  fi
  run_binaries ensemble "ZK_SERVERS=$servers" -- zk-client recipes zk-cli
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

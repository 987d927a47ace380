#!/usr/bin/env bash
# scenario.sh HOST:PORT - drive Apache ZooKeeper's Java CLI (zkCli.sh) against a
# server and check what it prints.
#
# Validated against Apache ZooKeeper 3.8.0 (Debian package `zookeeper`) started with
#   enforceQuota=true, extendedTypesEnabled=true,
#   DigestAuthenticationProvider.superDigest=super:<digest>   (optional)
#
# Environment:
#   ZKCLI                     zkCli.sh to use (default /usr/share/zookeeper/bin/zkCli.sh)
#   ZK_SUPER_DIGEST_PASSWORD  "super:<password>" or "<password>": enables the super-user checks
#   ZK_EXTENDED_TYPES=0       server has no TTL nodes: expect "Unimplemented" for create -t
#   ZK_QUOTA_ENFORCED=0       server does not enforce hard quotas: skip the enforcement check
#   KEEP_WORK=1               keep the captured outputs (printed path) for inspection
#   VERBOSE=1                 print every section's output
#
# How it works: zkCli.sh reads commands from stdin (one JVM per session).  After every
# command the script inserts `get <marker>/<label>`; the resulting
# "Node does not exist: <marker>/<label>" line (stderr, merged with stdout; both
# are autoflushing PrintStreams, so the order is kept) splits the output into one
# section per command.  Watch notifications are printed asynchronously by the
# event thread, so they are checked against the whole session output.
#
# Last line: "N passed, M failed"; exit status 1 if anything failed.
set -u

SERVER=${1:?usage: scenario.sh HOST:PORT}
ZKCLI=${ZKCLI:-/usr/share/zookeeper/bin/zkCli.sh}
EXT=${ZK_EXTENDED_TYPES:-1}
QUOTA=${ZK_QUOTA_ENFORCED:-1}
SUPER=${ZK_SUPER_DIGEST_PASSWORD:-}
if [ -n "$SUPER" ] && [ "${SUPER#super:}" = "$SUPER" ]; then SUPER="super:$SUPER"; fi

# Keep the CLI quiet: Debian's zkCli has no slf4j binding (only "SLF4J:" notices);
# upstream tarballs log through log4j (3.5-3.7: zookeeper.root.logger) or logback
# (3.8+: zookeeper.console.threshold).  Log lines are filtered out below as well.
export CLIENT_JVMFLAGS="${CLIENT_JVMFLAGS:-} -Dzookeeper.root.logger=ERROR,CONSOLE -Dzookeeper.console.threshold=ERROR"
export ZOO_LOG4J_PROP="ERROR,CONSOLE"

WORK=$(mktemp -d /tmp/zkcli-scenario.XXXXXX)
cleanup() { if [ "${KEEP_WORK:-0}" = 1 ]; then echo "outputs kept in $WORK" >&2; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

UNIQ=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
R=/zkcli-scenario-$UNIQ          # test root
MARK=/zkcli-scenario-mark-$UNIQ  # never created

PASS=0
FAIL=0

filter() { grep -v -E '^SLF4J:|^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9:,.]+ .*(INFO|WARN|DEBUG|TRACE|ERROR) '; }

# run_session NAME < lines "label|command"
run_session() {
  local name=$1 label cmd
  mkdir -p "$WORK/$name"
  : > "$WORK/$name.in"
  while IFS= read -r line; do
    case $line in ''|'#'*) continue;; esac
    label=${line%%|*}
    cmd=${line#*|}
    printf '%s\n' "$cmd" >> "$WORK/$name.in"
    printf 'get %s/%s\n' "$MARK" "$label" >> "$WORK/$name.in"
    : > "$WORK/$name/$label"
    echo "$label" >> "$WORK/$name.labels"
  done
  # without `quit` zkCli exits at EOF *without* closing the session (its
  # ephemerals would linger until the session times out)
  echo quit >> "$WORK/$name.in"
  timeout "$SESSION_TIMEOUT" "$ZKCLI" -server "$SERVER" < "$WORK/$name.in" > "$WORK/$name.raw" 2>&1
  echo $? > "$WORK/$name.rc"
  filter < "$WORK/$name.raw" > "$WORK/$name.out"
  awk -v mark="Node does not exist: $MARK/" -v dir="$WORK/$name" '
    BEGIN { f = dir "/_pre" }
    index($0, mark) == 1 { close(f); f = dir "/_after_" substr($0, length(mark) + 1); next }
    # session noise and (asynchronous) watch notifications are not part of a section
    /^$|^WATCHER::$|^WatchedEvent |^Connecting to |^Welcome to ZooKeeper!$|^JLine support is / { next }
    { print >> f }' "$WORK/$name.out"
  # output of command k is what follows marker k-1: rename "_after_<prev>" -> "<label>"
  local prev=_pre
  while IFS= read -r label; do
    if [ "$prev" = _pre ]; then src="$WORK/$name/_pre"; else src="$WORK/$name/_after_$prev"; fi
    [ -f "$src" ] && mv "$src" "$WORK/$name/$label"
    prev=$label
  done < "$WORK/$name.labels"
  if [ "${VERBOSE:-0}" = 1 ]; then
    while IFS= read -r label; do echo "=== $name/$label"; cat "$WORK/$name/$label"; done < "$WORK/$name.labels"
  fi
}

section() { cat "$WORK/$1/$2" 2>/dev/null; }

pass() { PASS=$((PASS + 1)); echo "ok   - $1"; }
fail() {
  FAIL=$((FAIL + 1)); echo "FAIL - $1"
  if [ -n "${2:-}" ]; then echo "       --- output of $2:"; sed 's/^/       | /' "$WORK/$2" 2>/dev/null | head -40; fi
}

# has SESSION/LABEL DESCRIPTION FIXED-STRING...   every string must occur
has() {
  local where=$1 desc=$2; shift 2
  local s
  for s in "$@"; do
    if ! grep -qF -- "$s" "$WORK/$where" 2>/dev/null; then fail "$desc (missing: $s)" "$where"; return; fi
  done
  pass "$desc"
}
# hasre SESSION/LABEL DESCRIPTION ERE...          every regex must match a line
hasre() {
  local where=$1 desc=$2; shift 2
  local s
  for s in "$@"; do
    if ! grep -qE -- "$s" "$WORK/$where" 2>/dev/null; then fail "$desc (no line matching: $s)" "$where"; return; fi
  done
  pass "$desc"
}
# lacks SESSION/LABEL DESCRIPTION FIXED-STRING... none may occur
lacks() {
  local where=$1 desc=$2; shift 2
  local s
  for s in "$@"; do
    if grep -qF -- "$s" "$WORK/$where" 2>/dev/null; then fail "$desc (unexpected: $s)" "$where"; return; fi
  done
  pass "$desc"
}
# lacksre SESSION/LABEL DESCRIPTION ERE...       no line may match
lacksre() {
  local where=$1 desc=$2; shift 2
  local s
  for s in "$@"; do
    if grep -qE -- "$s" "$WORK/$where" 2>/dev/null; then fail "$desc (unexpected line matching: $s)" "$where"; return; fi
  done
  pass "$desc"
}
# exact SESSION/LABEL DESCRIPTION TEXT            whole section equals TEXT (trailing newline ignored)
exact() {
  local where=$1 desc=$2 want=$3 got
  got=$(cat "$WORK/$where" 2>/dev/null)
  if [ "$got" = "$want" ]; then pass "$desc"; else fail "$desc (want: $(printf %q "$want"))" "$where"; fi
}

STAT_RE=(
  '^cZxid = 0x[0-9a-f]+$'
  '^ctime = [A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [A-Za-z+0-9:]+ [0-9]{4}$'
  '^mZxid = 0x[0-9a-f]+$'
  '^mtime = '
  '^pZxid = 0x[0-9a-f]+$'
  '^cversion = -?[0-9]+$'
  '^dataVersion = [0-9]+$'
  '^aclVersion = [0-9]+$'
  '^ephemeralOwner = 0x[0-9a-f]+$'
  '^dataLength = [0-9]+$'
  '^numChildren = [0-9]+$'
)

echo "# zkCli scenario against $SERVER (root $R)"

SESSION_TIMEOUT=${ZKCLI_SESSION_TIMEOUT:-180}
HOSTPART=${SERVER%:*}
PORTPART=${SERVER##*:}
if ! timeout 5 bash -c "exec 3<>/dev/tcp/$HOSTPART/$PORTPART" 2>/dev/null; then
  echo "FAIL - cannot connect to $SERVER"
  echo "0 passed, 1 failed"
  exit 1
fi

# ---------------------------------------------------------------------------------
# Session 1: everything that needs no credentials, plus ephemerals owned by it.
# ---------------------------------------------------------------------------------
SUPERMK="nosuper|ls $R"
# only the super user can read (and so clean up) this one
[ -n "$SUPER" ] && SUPERMK="mksuperonly|create $R/superonly only-super digest:nobody:AAAAAAAAAAAAAAAAAAAAAAAAAAA=:cdrwa"
run_session s1 <<EOF
mkroot|create $R root-data
mkdup|create $R again
mknoparent|create $R/no/such/parent x
mka|create $R/a hello
mkb|create $R/a/b
mkeph|create -e $R/eph ephemeral-data
mkseq|create -s $R/seq- s
mkseq2|create -s $R/seq- s
mkephseq|create -e -s $R/ephseq- es
mkephchild|create $R/eph/child
ls|ls $R
lss|ls -s $R
lsR|ls -R $R
getnull|get $R/a/b
gets|get -s $R/a
getmissing|get $R/missing
set|set $R/a world
sets|set -s $R/a world2
setbadver|set -v 99 $R/a nope
setgoodver|set -v 2 $R/a v3
stat|stat $R/a
statmissing|stat $R/missing
statephem|stat $R/eph
delnotempty|delete $R/a
delbadver|delete -v 7 $R/a/b
delgoodver|delete -v 0 $R/a/b
delmissing|delete $R/a/b
mktree|create $R/tree
mktree1|create $R/tree/x
mktree2|create $R/tree/x/y
deleteall|deleteall $R/tree
lsafterdelall|ls $R
getacl|getAcl $R/a
getacls|getAcl -s $R/a
setaclworld|setAcl $R/a world:anyone:rwa
getaclworld|getAcl $R/a
setaclbad|setAcl $R/a digest:notvalid:cdrwa
setaclip|setAcl $R/a ip:127.0.0.1:cdrwa
getaclip|getAcl $R/a
mkcreateonly|create $R/conly x world:anyone:c,digest:alice:JYdjG/dL2+v79QyuS8/0gpT+rQQ=:cdrwa
getcreateonly|get $R/conly
lscreateonly|ls $R/conly
setcreateonly|set $R/conly y
getaclcreateonly|getAcl $R/conly
setaclcreateonly|setAcl $R/conly world:anyone:cdrwa
whoami|whoami
getephemerals|getEphemerals $R
getephemeralsall|getEphemerals /
allchildren|getAllChildrenNumber $R
allchildrenmissing|getAllChildrenNumber $R/missing
sync|sync $R
config|config
lszk|ls /zookeeper
mkttl|create -t 60000 $R/ttl ttl-data
mkttlseq|create -s -t 60000 $R/ttlseq- x
statttl|stat $R/ttl
mkcont|create -c $R/cont
mkcontchild|create $R/cont/child
statcont|stat $R/cont
mkq|create $R/q
mkq1|create $R/q/one
setquotan|setquota -n 5 $R/q
listquota|listquota $R/q
getlimits|get /zookeeper/quota$R/q/zookeeper_limits
getstats|get /zookeeper/quota$R/q/zookeeper_stats
setquotaN|setquota -N 3 $R/q
listquotaN|listquota $R/q
mkq2|create $R/q/two
mkq3|create $R/q/three
setquotaB|setquota -B 10 $R/q
setq1big|set $R/q/one 0123456789ABCDEF
delquotan|delquota -n $R/q
listquotaafterdeln|listquota $R/q
delquota|delquota $R/q
listquotaafterdel|listquota $R/q
mkq3again|create $R/q/three
addwatch|addWatch $R/w
mkw|create $R/w
mkwchild|create $R/w/c
setwchild|set $R/w/c data
rmwatch|removewatches $R/w
rmwatchnone|removewatches $R/w
mkw2|create $R/w2
getw|get -w $R/w2
rmdatawatch|removewatches $R/w2 -d
statw|stat -w $R/w2
setw2|set $R/w2 changed
lsw|ls -w $R/w2
mkw2child|create $R/w2/c
addwatchp|addWatch -m PERSISTENT $R/w2
setw2again|set $R/w2 again
setw2again2|set $R/w2 again2
addauth|addauth digest alice:alice-secret
whoamiauth|whoami
mkdigest|create $R/secret s3cret digest:alice:JYdjG/dL2+v79QyuS8/0gpT+rQQ=:cdrwa
getdigest|get $R/secret
mkauth|create $R/authacl a auth:whatever:cdrwa
getaclauth|getAcl $R/authacl
setaclauth|setAcl $R/a auth::rwa
getacla|getAcl $R/a
$SUPERMK
EOF

S=s1
# --- create / ls / get
exact  $S/mkroot      "create prints 'Created <path>'" "Created $R"
has    $S/mkdup       "create existing: 'Node already exists: <path>'" "Node already exists: $R"
has    $S/mknoparent  "create without parent: 'Node does not exist: <path>'" "Node does not exist: $R/no/such/parent"
exact  $S/mka         "create with data" "Created $R/a"
exact  $S/mkeph       "create -e" "Created $R/eph"
exact  $S/mkseq       "create -s: 10-digit suffix = number of children created so far (a, eph)" "Created $R/seq-0000000002"
exact  $S/mkseq2      "create -s again increments" "Created $R/seq-0000000003"
exact  $S/mkephseq    "create -e -s" "Created $R/ephseq-0000000004"
has    $S/mkephchild  "child of an ephemeral: 'Ephemerals cannot have children: <path>'" "Ephemerals cannot have children: $R/eph/child"
exact  $S/ls          "ls prints the (client-side sorted) child list" "[a, eph, ephseq-0000000004, seq-0000000002, seq-0000000003]"
has    $S/lss         "ls -s prints children then the stat" "[a, eph, ephseq-0000000004, seq-0000000002, seq-0000000003]" "numChildren = 5" "dataLength = 9" "cversion = 5"
hasre  $S/lss         "ls -s stat lines" "${STAT_RE[@]}"
has    $S/lsR         "ls -R lists the subtree" "$R" "$R/a" "$R/a/b" "$R/eph"
exact  $S/getnull     "get of a node created without data prints 'null'" "null"
has    $S/gets        "get -s prints data and stat" "hello" "dataVersion = 0" "numChildren = 1" "dataLength = 5" "ephemeralOwner = 0x0"
hasre  $S/gets        "get -s stat line formats" "${STAT_RE[@]}"
has    $S/getmissing  "get missing: 'Node does not exist: <path>'" "Node does not exist: $R/missing"
# --- set / stat
exact  $S/set         "set prints nothing" ""
has    $S/sets        "set -s prints the new stat" "dataVersion = 2" "dataLength = 6"
has    $S/setbadver   "set with wrong version: 'version No is not valid : <path>'" "version No is not valid : $R/a"
exact  $S/setgoodver  "set -v with the right version" ""
has    $S/stat        "stat prints the stat" "dataVersion = 3" "dataLength = 2" "numChildren = 1" "aclVersion = 0"
hasre  $S/stat        "stat line formats" "${STAT_RE[@]}"
has    $S/statmissing "stat missing: 'Node does not exist: <path>'" "Node does not exist: $R/missing"
hasre  $S/statephem   "stat of an ephemeral shows the owner session" '^ephemeralOwner = 0x[1-9a-f][0-9a-f]*$'
# --- delete
has    $S/delnotempty "delete with children: 'Node not empty: <path>'" "Node not empty: $R/a"
has    $S/delbadver   "delete with wrong version: 'version No is not valid : <path>'" "version No is not valid : $R/a/b"
exact  $S/delgoodver  "delete -v with right version prints nothing" ""
has    $S/delmissing  "delete missing: 'Node does not exist: <path>'" "Node does not exist: $R/a/b"
exact  $S/deleteall   "deleteall prints nothing" ""
lacks  $S/lsafterdelall "deleteall removed the subtree" "tree"
# --- ACLs
exact  $S/getacl      "getAcl of an open node" "$(printf "'world,'anyone\n: cdrwa")"
has    $S/getacls     "getAcl -s also prints the stat" "'world,'anyone" ": cdrwa" "aclVersion = 0"
exact  $S/setaclworld "setAcl prints nothing" ""
exact  $S/getaclworld "getAcl after setAcl world:anyone:rwa" "$(printf "'world,'anyone\n: rwa")"
has    $S/setaclbad   "setAcl with a malformed digest id: InvalidACL -> 'Acl is not valid : <path>'" "Acl is not valid : $R/a"
exact  $S/getaclip    "ip ACL" "$(printf "'ip,'127.0.0.1\n: cdrwa")"
has    $S/getcreateonly "get without READ: 'Insufficient permission : <path>'" "Insufficient permission : $R/conly"
has    $S/lscreateonly  "ls without READ: 'Insufficient permission : <path>'" "Insufficient permission : $R/conly"
has    $S/setcreateonly "set without WRITE: 'Insufficient permission : <path>'" "Insufficient permission : $R/conly"
exact  $S/mkcreateonly "create with a multi-entry ACL" "Created $R/conly"
has    $S/getaclcreateonly "getAcl without READ/ADMIN: 'Insufficient permission : <path>'" "Insufficient permission : $R/conly"
has    $S/setaclcreateonly "setAcl without ADMIN: 'Insufficient permission : <path>'" "Insufficient permission : $R/conly"
# --- whoami / ephemerals / counts / sync / config
exact  $S/whoami      "whoami without credentials" "$(printf 'Auth scheme: User\nip: 127.0.0.1')"
# getEphemerals order is unspecified (a set on the server)
hasre  $S/getephemerals "getEphemerals <root> lists this session's ephemerals" \
  "^\[($R/eph, $R/ephseq-0000000004|$R/ephseq-0000000004, $R/eph)\]\$"
has    $S/getephemeralsall "getEphemerals / includes them" "$R/eph" "$R/ephseq-0000000004"
exact  $S/allchildren "getAllChildrenNumber counts all descendants" "6"
has    $S/allchildrenmissing "getAllChildrenNumber of a missing node" "Node does not exist: $R/missing"
exact  $S/sync        "sync prints 'Sync is OK'" "Sync is OK"
lacks  $S/config      "config (standalone: data of /zookeeper/config) does not fail" "Node does not exist" "Exception" "KeeperErrorCode"
has    $S/lszk        "/zookeeper has config and quota" "config" "quota"
# --- TTL / container
if [ "$EXT" = 1 ]; then
  exact $S/mkttl      "create -t (TTL node)" "Created $R/ttl"
  exact $S/mkttlseq   "create -s -t (sequential TTL node)" "Created $R/ttlseq-0000000008"
  has   $S/statttl    "TTL node stat shows ephemeralOwner 0x0" "ephemeralOwner = 0x0" "dataLength = 8"
else
  has   $S/mkttl      "create -t without extended types: Unimplemented" "KeeperErrorCode = Unimplemented for $R/ttl"
fi
exact  $S/mkcont      "create -c (container)" "Created $R/cont"
has    $S/statcont    "container stat: ephemeralOwner 0x0, one child" "ephemeralOwner = 0x0" "numChildren = 1"
# --- quota
has    $S/listquota   "listquota after setquota -n 5" \
  "absolute path is /zookeeper/quota$R/q/zookeeper_limits" \
  "Output quota for $R/q count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1" \
  "Output stat for $R/q count=2,bytes=0"
exact  $S/getlimits   "limits node holds the StatsTrack string" "count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1"
exact  $S/getstats    "stats node is maintained by the server (node itself + 1 child)" "count=2,bytes=0"
has    $S/listquotaN  "setquota -N adds countHardLimit" "Output quota for $R/q count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=3"
exact  $S/mkq2        "create within the hard count quota" "Created $R/q/two"
if [ "$QUOTA" = 1 ]; then
  has  $S/mkq3        "create beyond the hard count quota: 'Quota has exceeded : <path>'" "Quota has exceeded : $R/q/three"
  has  $S/setq1big    "set beyond the hard byte quota: 'Quota has exceeded : <path>'" "Quota has exceeded : $R/q/one"
fi
has    $S/listquotaafterdeln "delquota -n clears only the soft count" "Output quota for $R/q count=-1,bytes=-1=;byteHardLimit=10;countHardLimit=3"
has    $S/listquotaafterdel  "after delquota: 'quota for <path> does not exist.'" "quota for $R/q does not exist."
[ "$QUOTA" = 1 ] && exact $S/mkq3again "create works again after delquota" "Created $R/q/three"
# --- watches (events are printed asynchronously: look at the whole session)
hasre  s1.out "addWatch (persistent recursive) delivers NodeCreated for the node and its child" \
  "^WatchedEvent state:SyncConnected type:NodeCreated path:$R/w\$" \
  "^WatchedEvent state:SyncConnected type:NodeCreated path:$R/w/c\$" \
  "^WatchedEvent state:SyncConnected type:NodeDataChanged path:$R/w/c\$"
lacksre s1.out "recursive watches never deliver NodeChildrenChanged" "type:NodeChildrenChanged path:$R/w\$"
has    s1.out "removewatches of a persistent watch: PersistentWatchRemoved" "WatchedEvent state:SyncConnected type:PersistentWatchRemoved path:$R/w"
has    $S/rmwatchnone "removewatches without a watch: 'KeeperErrorCode = No such watcher for <path>'" "KeeperErrorCode = No such watcher for $R/w"
has    s1.out "removewatches -d of a get -w watch: DataWatchRemoved" "WatchedEvent state:SyncConnected type:DataWatchRemoved path:$R/w2"
has    s1.out "stat -w then set: NodeDataChanged" "WatchedEvent state:SyncConnected type:NodeDataChanged path:$R/w2"
has    s1.out "ls -w then create child: NodeChildrenChanged" "WatchedEvent state:SyncConnected type:NodeChildrenChanged path:$R/w2"
n=$(grep -c "type:NodeDataChanged path:$R/w2\$" "$WORK/s1.out")
if [ "$n" -eq 3 ]; then pass "stat -w fired once, persistent watch fired for both later sets (3 NodeDataChanged)"; else fail "expected 3 NodeDataChanged for $R/w2, got $n" s1.out; fi
# --- digest auth in the same session
exact  $S/addauth     "addauth digest prints nothing" ""
# the identities come from a set on the server: order varies
has    $S/whoamiauth  "whoami after addauth" "Auth scheme: User" "ip: 127.0.0.1" "digest: alice"
n=$(wc -l < "$WORK/$S/whoamiauth")
[ "$n" -eq 3 ] && pass "whoami prints exactly 3 lines" || fail "whoami prints $n lines" "$S/whoamiauth"
exact  $S/mkdigest    "create with a digest ACL" "Created $R/secret"
exact  $S/getdigest   "owner can read the digest-protected node" "s3cret"
exact  $S/getaclauth  "auth: ACL expands to the session's digest identity" "$(printf "'digest,'alice:JYdjG/dL2+v79QyuS8/0gpT+rQQ=\n: cdrwa")"
exact  $S/getacla     "setAcl auth::rwa" "$(printf "'digest,'alice:JYdjG/dL2+v79QyuS8/0gpT+rQQ=\n: rwa")"

# ---------------------------------------------------------------------------------
# Session 2: a new session without credentials: ephemerals of s1 are gone, the
# digest-protected nodes are denied until addauth; cleanup.
# ---------------------------------------------------------------------------------
SUPERLINE="noop|ls $R"
[ -n "$SUPER" ] && SUPERLINE="superauth|addauth digest $SUPER"
run_session s2 <<EOF
ls|ls $R
getsecret|get $R/secret
setsecret|set $R/secret x
getaclsecret|getAcl $R/secret
lssecret|ls $R/secret
deleteinsecret|create $R/secret/child
geta|get $R/a
getconly|get $R/conly
addauthwrong|addauth digest alice:wrong
getsecretwrong|get $R/secret
addauth|addauth digest alice:alice-secret
getsecretok|get $R/secret
getaok|get $R/a
getephemerals|getEphemerals $R
getsuperonlydenied|get $R/superonly
$SUPERLINE
supergetonly|get $R/superonly
superacl|getAcl $R/superonly
restore|setAcl $R/conly world:anyone:cdrwa
safetydelquota|delquota $R/q
cleanup|deleteall $R
lsgone|ls $R
EOF
S=s2
if [ "$EXT" = 1 ]; then TTLS="ttl, ttlseq-0000000008, "; else TTLS=""; fi
SO=""; [ -n "$SUPER" ] && SO="superonly, "
exact  $S/ls          "ephemerals of the closed session are gone" "[a, authacl, conly, cont, q, secret, seq-0000000002, seq-0000000003, ${SO}${TTLS}w, w2]"
has    $S/getsecret   "get without auth: 'Insufficient permission : <path>'" "Insufficient permission : $R/secret"
has    $S/setsecret   "set without auth: Insufficient permission" "Insufficient permission : $R/secret"
has    $S/getaclsecret "getAcl without auth: Insufficient permission" "Insufficient permission : $R/secret"
has    $S/lssecret    "ls without auth: Insufficient permission" "Insufficient permission : $R/secret"
has    $S/deleteinsecret "create below without auth: Insufficient permission" "Insufficient permission : $R/secret/child"
has    $S/geta        "digest-only (auth::rwa) node denied without auth" "Insufficient permission : $R/a"
has    $S/getconly    "create-only node is not readable" "Insufficient permission : $R/conly"
has    $S/getsecretwrong "wrong digest password: still denied" "Insufficient permission : $R/secret"
exact  $S/getsecretok "after addauth: readable" "s3cret"
exact  $S/getaok      "after addauth: auth::rwa node readable" "v3"
if [ -n "$SUPER" ]; then
  has   $S/getsuperonlydenied "node for nobody: denied to alice" "Insufficient permission : $R/superonly"
  exact $S/supergetonly "super user reads a node nobody else may read" "only-super"
  exact $S/superacl   "super user reads its ACL" "$(printf "'digest,'nobody:AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n: cdrwa")"
fi
exact  $S/getephemerals "new session owns no ephemerals" "[]"
exact  $S/cleanup     "deleteall of the test root" ""
has    $S/lsgone      "test root gone" "Node does not exist: $R"

# ---------------------------------------------------------------------------------
# One-shot mode (command on the zkCli.sh command line) and its exit status.
# ---------------------------------------------------------------------------------
timeout "$SESSION_TIMEOUT" "$ZKCLI" -server "$SERVER" ls /zookeeper 2>&1 | filter > "$WORK/oneshot1"; rc1=${PIPESTATUS[0]}
timeout "$SESSION_TIMEOUT" "$ZKCLI" -server "$SERVER" get "$R/missing" 2>&1 | filter > "$WORK/oneshot2"; rc2=${PIPESTATUS[0]}
has oneshot1 "one-shot ls /zookeeper" "config" "quota"
[ $rc1 -eq 0 ] && pass "one-shot success exits 0" || fail "one-shot success exit status $rc1" oneshot1
has oneshot2 "one-shot get of a missing node" "Node does not exist: $R/missing"
[ $rc2 -ne 0 ] && pass "one-shot failure exits non-zero" || fail "one-shot failure exit status $rc2" oneshot2

echo "$PASS passed, $FAIL failed"
[ $FAIL -eq 0 ]

#!/usr/bin/env bash
# Starts or stops a standalone Apache ZooKeeper (Debian's `zookeeper`
# package) for the interop runs of the client tests.
#
#   apache-zk.sh start DIR PORT [KEY=VALUE...]
#                                 wipe DIR, write a zoo.cfg (plus these lines),
#                                 start, wait until it serves
#   apache-zk.sh stop DIR         stop the one started in DIR
# SERVER_JVMFLAGS are passed to the JVM, as ZooKeeper's own scripts do
# (e.g. -Djava.security.auth.login.config=jaas.conf for SASL).
# ADMIN_PORT=N turns the AdminServer on at that port (Debian's ZooKeeper
# needs the Jetty and Jackson jars on its class path for it).
set -euo pipefail

cmd=${1:?start|stop}; dir=${2:?DIR}
# Debian's zookeeper.jar does not list netty-codec and netty-resolver,
# which its TLS (Netty) server needs.
jars=/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar:/usr/share/java/netty-codec.jar:/usr/share/java/netty-resolver.jar

admin=false
if [ -n "${ADMIN_PORT:-}" ]; then
  admin=true
  for jar in jetty9-server jetty9-servlet jetty9-util jetty9-http jetty9-io jetty9-security \
             servlet-api jackson-databind jackson-core jackson-annotations; do
    jars=$jars:/usr/share/java/$jar.jar
  done
fi

case $cmd in
start)
  port=${3:?PORT}
  rm -rf "$dir"; mkdir -p "$dir/data"
  cat > "$dir/zoo.cfg" <<CFG
tickTime=2000
dataDir=$dir/data
clientPort=$port
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=$admin
admin.serverAddress=127.0.0.1
admin.serverPort=${ADMIN_PORT:-8080}
4lw.commands.whitelist=*
extendedTypesEnabled=true
CFG
  for line in "${@:4}"; do echo "$line" >> "$dir/zoo.cfg"; done
  printf 'log4j.rootLogger=WARN, F\nlog4j.appender.F=org.apache.log4j.FileAppender\nlog4j.appender.F.File=%s/zookeeper.log\nlog4j.appender.F.layout=org.apache.log4j.PatternLayout\nlog4j.appender.F.layout.ConversionPattern=%%d %%-5p %%m%%n\n' "$dir" > "$dir/log4j.properties"
  # The container manager's interval is a JVM property, not a zoo.cfg key.
  # shellcheck disable=SC2086 # the flags are words, as in zkServer.sh
  setsid java -Xmx512m ${SERVER_JVMFLAGS:-} -Dzookeeper.admin.enableServer=$admin -Dznode.container.checkIntervalMs=200 \
    -Dlog4j.configuration="file:$dir/log4j.properties" \
    -cp "$jars" org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" >"$dir/out.log" 2>&1 </dev/null &
  echo $! > "$dir/pid"
  for _ in $(seq 1 300); do
    if timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port && printf srvr >&3 && cat <&3" 2>/dev/null | grep -q '^Mode:'; then
      exit 0
    fi
    sleep 0.2
  done
  echo "apache-zk.sh: ZooKeeper in $dir did not start" >&2; cat "$dir/out.log" >&2; exit 1
  ;;
stop)
  [ -f "$dir/pid" ] || exit 0
  pid=$(cat "$dir/pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
  ;;
*) echo "usage: apache-zk.sh start DIR PORT | stop DIR" >&2; exit 2;;
esac

#!/usr/bin/env bash
# ClickHouse clusters on one machine for teplokarta: Debian's ZooKeeper and two clickhouse-server
# processes on loopback (cluster "teplokarta"), state inside the checkout. Two layouts:
#   replicated (default)            the two servers are two replicas of one shard
#   TEPLOKARTA_CLUSTER_SHARDS=2     the two servers are two shards of one replica each (their own state
#                                   dir, ZooKeeper and ports, so both layouts can run side by side)
# Idempotent: "start" starts whatever is not running (so it also brings back a server that was killed),
# "stop" leaves nothing running. docs/cluster.md describes the schema the cluster gets from
# `teplokarta migrate --cluster`.
#
#   deploy/local/cluster.sh start|stop|status|env
#   deploy/local/cluster.sh kill N      SIGKILL server N (1 or 2); "start" brings it back
#
# Environment (defaults in brackets: replicated layout; sharded layout):
#   TEPLOKARTA_CLUSTER_SHARDS     1 or 2                                [1]
#   TEPLOKARTA_CLUSTER_STATE_DIR  state directory                       [<repo>/.state/cluster; cluster-shards]
#   TEPLOKARTA_CLUSTER_NAME       cluster name in remote_servers        [teplokarta]
#   TEPLOKARTA_ZK_PORT            ZooKeeper client port                 [12181; 12182]
#   TEPLOKARTA_CH1_PORT / _HTTP_PORT / _INTER_PORT  server 1 ports      [19610 / 18610 / 19611; 19630 / 18630 / 19631]
#   TEPLOKARTA_CH2_PORT / _HTTP_PORT / _INTER_PORT  server 2 ports      [19620 / 18620 / 19621; 19640 / 18640 / 19641]
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
shards=${TEPLOKARTA_CLUSTER_SHARDS:-1}
case "$shards" in
  1) suffix="" base=(19610 19620) zk_default=12181 ;;
  2) suffix="-shards" base=(19630 19640) zk_default=12182 ;;
  *) echo "TEPLOKARTA_CLUSTER_SHARDS=$shards: 1 (two replicas of one shard) or 2 (two shards)" >&2; exit 2 ;;
esac
state=${TEPLOKARTA_CLUSTER_STATE_DIR:-$repo/.state/cluster$suffix}
cluster=${TEPLOKARTA_CLUSTER_NAME:-teplokarta}
zk_port=${TEPLOKARTA_ZK_PORT:-$zk_default}
tcp=("" "${TEPLOKARTA_CH1_PORT:-${base[0]}}" "${TEPLOKARTA_CH2_PORT:-${base[1]}}")
http=("" "${TEPLOKARTA_CH1_HTTP_PORT:-$((base[0] - 1000))}" "${TEPLOKARTA_CH2_HTTP_PORT:-$((base[1] - 1000))}")
inter=("" "${TEPLOKARTA_CH1_INTER_PORT:-$((base[0] + 1))}" "${TEPLOKARTA_CH2_INTER_PORT:-$((base[1] + 1))}")

me=cluster
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# zk_ok asks ZooKeeper "ruok" with a timeout: during start-up the bare command can block forever.
zk_ok() {
  [ "$(timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$zk_port && printf ruok >&3 && cat <&3" 2>/dev/null)" = imok ]
}

start_zookeeper() {
  local dir=$state/zookeeper pidfile=$state/zookeeper/zk.pid
  if alive "$pidfile"; then log "zookeeper already running on 127.0.0.1:$zk_port"; return 0; fi
  if zk_ok; then log "port $zk_port already answers ZooKeeper, but not from $dir: stop it or pick TEPLOKARTA_ZK_PORT"; exit 1; fi
  mkdir -p "$dir/conf" "$dir/data" "$dir/log"
  cat >"$dir/conf/zoo.cfg" <<EOF
tickTime=500
initLimit=10
syncLimit=5
dataDir=$dir/data
clientPort=$zk_port
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=ruok
maxSessionTimeout=20000
EOF
  cat >"$dir/conf/log4j.properties" <<EOF
log4j.rootLogger=WARN, FILE
log4j.appender.FILE=org.apache.log4j.FileAppender
log4j.appender.FILE.File=$dir/log/zookeeper.log
log4j.appender.FILE.layout=org.apache.log4j.PatternLayout
log4j.appender.FILE.layout.ConversionPattern=%d %p %c{1}: %m%n
EOF
  local cp="$dir/conf"
  for j in zookeeper zookeeper-jute slf4j-api slf4j-log4j12 log4j-1.2; do cp="$cp:/usr/share/java/$j.jar"; done
  (cd "$dir" || exit 1
   nohup java -Xmx256m -cp "$cp" org.apache.zookeeper.server.ZooKeeperServerMain "$dir/conf/zoo.cfg" \
     >"$dir/log/stdout.log" 2>&1 &
   echo $! >"$pidfile")
  for _ in $(seq 1 150); do
    if zk_ok; then log "zookeeper ready on 127.0.0.1:$zk_port"; return 0; fi
    alive "$pidfile" || break
    sleep 0.2
  done
  log "zookeeper did not start; last log lines:"; tail -n 20 "$dir/log/stdout.log" "$dir/log/zookeeper.log" >&2 || true
  exit 1
}

# cluster_xml is the config.d file every server shares but for its macros: ZooKeeper, the cluster.
cluster_xml() { # server-number
  local shard=1 replica=r$1 servers
  if [ "$shards" = 2 ]; then
    shard=$1 replica=r1
    servers="<shard><internal_replication>true</internal_replication><replica><host>127.0.0.1</host><port>${tcp[1]}</port></replica></shard>
            <shard><internal_replication>true</internal_replication><replica><host>127.0.0.1</host><port>${tcp[2]}</port></replica></shard>"
  else
    servers="<shard>
                <internal_replication>true</internal_replication>
                <replica><host>127.0.0.1</host><port>${tcp[1]}</port></replica>
                <replica><host>127.0.0.1</host><port>${tcp[2]}</port></replica>
            </shard>"
  fi
  cat <<EOF
<yandex>
    <zookeeper>
        <node><host>127.0.0.1</host><port>$zk_port</port></node>
        <session_timeout_ms>2000</session_timeout_ms>
    </zookeeper>
    <macros>
        <shard>$shard</shard>
        <replica>$replica</replica>
    </macros>
    <remote_servers>
        <$cluster>
            $servers
        </$cluster>
    </remote_servers>
    <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
</yandex>
EOF
}

start_replica() { # N
  local n=$1 dir=$state/ch$1 pidfile=$state/ch$1/server.pid port=${tcp[$1]}
  if alive "$pidfile"; then log "server $n already running on 127.0.0.1:$port"; return 0; fi
  if clickhouse-client --port "$port" --host 127.0.0.1 -q 'SELECT 1' >/dev/null 2>&1; then
    log "port $port already answers ClickHouse, but not from $dir: stop it or pick TEPLOKARTA_CH${n}_PORT"; exit 1
  fi
  ch_config "$dir" "$port" "${http[$n]}" "${inter[$n]}"
  cluster_xml "$n" >"$dir/config.d/cluster.xml"
  ch_launch "$dir" "$pidfile"
  for _ in $(seq 1 150); do
    if clickhouse-client --port "$port" --host 127.0.0.1 -q 'SELECT 1' >/dev/null 2>&1; then
      log "server $n ready on 127.0.0.1:$port (state $dir)"; return 0
    fi
    alive "$pidfile" || break
    sleep 0.1
  done
  log "server $n did not start; last log lines:"; tail -n 20 "$dir/log/stdout.log" "$dir/log/error.log" >&2 || true
  exit 1
}

stop_pidfile() { # name pidfile
  local pid
  alive "$2" || { rm -f "$2"; return 0; }
  pid=$(cat "$2")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do alive "$2" || { rm -f "$2"; log "$1 stopped"; return 0; }; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$2"; log "$1 killed"
}

case "${1:-}" in
  start) need_packages clickhouse-server:clickhouse-server clickhouse-client:clickhouse-client /usr/share/java/zookeeper.jar:zookeeper java:default-jre-headless; mkdir -p "$state"; start_zookeeper; start_replica 1; start_replica 2 ;;
  stop)
    stop_pidfile "server 1" "$state/ch1/server.pid"; stop_pidfile "server 2" "$state/ch2/server.pid"
    stop_pidfile zookeeper "$state/zookeeper/zk.pid" ;;
  kill)
    case "${2:-}" in 1|2) ;; *) echo "usage: $0 kill 1|2" >&2; exit 2 ;; esac
    if alive "$state/ch$2/server.pid"; then kill -9 "$(cat "$state/ch$2/server.pid")"; log "server $2 killed (SIGKILL)"; fi ;;
  status)
    alive "$state/zookeeper/zk.pid" && echo "zookeeper: running on 127.0.0.1:$zk_port" || echo "zookeeper: stopped"
    for n in 1 2; do
      alive "$state/ch$n/server.pid" && echo "server $n: running on 127.0.0.1:${tcp[$n]}" || echo "server $n: stopped"
    done ;;
  env)
    echo "TEPLOKARTA_CLICKHOUSE_ADDR=127.0.0.1:${tcp[1]},127.0.0.1:${tcp[2]}"
    echo "TEPLOKARTA_CLICKHOUSE_CLUSTER=$cluster" ;;
  *) echo "usage: $0 start|stop|status|env|kill N" >&2; exit 2 ;;
esac

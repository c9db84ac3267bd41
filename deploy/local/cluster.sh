#!/usr/bin/env bash
# ClickHouse clusters on one machine for teplokarta: Debian's ZooKeeper and clickhouse-server processes on
# loopback (cluster "teplokarta"), state inside the checkout. Three layouts, each with its own state dir,
# ZooKeeper and ports, so they run side by side:
#   replicated (default)                                  two replicas of one shard
#   TEPLOKARTA_CLUSTER_SHARDS=2                           two shards of one server each
#   TEPLOKARTA_CLUSTER_SHARDS=2 TEPLOKARTA_CLUSTER_REPLICAS=2   two shards of two replicas (four servers)
# Server n belongs to shard (n-1)/replicas + 1. Idempotent: "start" starts whatever is not running (so it
# also brings back a server that was killed), "stop" leaves nothing running. docs/cluster.md describes the
# schema the cluster gets from `teplokarta migrate --cluster`.
#
#   deploy/local/cluster.sh start|stop|status|env
#   deploy/local/cluster.sh kill N      SIGKILL server N; "start" brings it back
#
# Environment (defaults in brackets: replicated layout; two shards; two shards of two replicas):
#   TEPLOKARTA_CLUSTER_SHARDS     1 or 2                                [1]
#   TEPLOKARTA_CLUSTER_REPLICAS   replicas per shard: 2 with one shard, 1 or 2 with two   [2; 1]
#   TEPLOKARTA_CLUSTER_STATE_DIR  state directory              [<repo>/.state/cluster; cluster-shards; cluster-2x2]
#   TEPLOKARTA_CLUSTER_NAME       cluster name in remote_servers        [teplokarta]
#   TEPLOKARTA_CLUSTER_USER       the user clients and the servers themselves connect as   [teplokarta]
#   TEPLOKARTA_CLUSTER_PASSWORD   its password (no & < >)               [tk'local\pw]
#   TEPLOKARTA_ZK_PORT            ZooKeeper client port                 [12181; 12182; 12183]
#   TEPLOKARTA_CH<n>_PORT / _HTTP_PORT / _INTER_PORT  server n's ports, n = 1, 2
#       [19610 / 18610 / 19611, 19620 / …; 19630, 19640; 19650, 19660, 19670, 19680 (http −1000, inter +1)]
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
shards=${TEPLOKARTA_CLUSTER_SHARDS:-1}
case "$shards" in
  1) replicas=${TEPLOKARTA_CLUSTER_REPLICAS:-2} ;;
  2) replicas=${TEPLOKARTA_CLUSTER_REPLICAS:-1} ;;
  *) echo "TEPLOKARTA_CLUSTER_SHARDS=$shards: 1 or 2" >&2; exit 2 ;;
esac
case "$shards:$replicas" in
  1:2) suffix="" base=(19610 19620) zk_default=12181 ;;
  2:1) suffix="-shards" base=(19630 19640) zk_default=12182 ;;
  2:2) suffix="-2x2" base=(19650 19660 19670 19680) zk_default=12183 ;;
  *) echo "$shards shard(s) of $replicas replica(s): the layouts are 1×2, 2×1 and 2×2" >&2; exit 2 ;;
esac
servers=${#base[@]}
state=${TEPLOKARTA_CLUSTER_STATE_DIR:-$repo/.state/cluster$suffix}
cluster=${TEPLOKARTA_CLUSTER_NAME:-teplokarta}
# As in production, user default is not for use: it gets a random password at every start, and clients,
# Distributed tables and remote() connect as a user of their own whose password holds the characters a
# query must escape (a quote, a backslash). internal/testenv.ClusterAuth has the same defaults.
user=${TEPLOKARTA_CLUSTER_USER:-teplokarta}
password=${TEPLOKARTA_CLUSTER_PASSWORD-"tk'local\\pw"}
[[ "$user" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || { echo "TEPLOKARTA_CLUSTER_USER=$user: letters, digits, _" >&2; exit 2; }
case "$password" in
  *[\&\<\>]*) echo "TEPLOKARTA_CLUSTER_PASSWORD must not hold & < > (it goes into XML as it is)" >&2; exit 2 ;;
esac
zk_port=${TEPLOKARTA_ZK_PORT:-$zk_default}
tcp=("") http=("") inter=("")
for n in $(seq 1 "$servers"); do
  p=${base[$((n - 1))]}
  tcp_var=TEPLOKARTA_CH${n}_PORT http_var=TEPLOKARTA_CH${n}_HTTP_PORT inter_var=TEPLOKARTA_CH${n}_INTER_PORT
  tcp+=("${!tcp_var:-$p}") http+=("${!http_var:-$((p - 1000))}") inter+=("${!inter_var:-$((p + 1))}")
done

me=cluster
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# zk_ok asks ZooKeeper "srvr" with a timeout (during start-up the bare command can block forever) and wants
# its mode: "ruok" answers imok once the port is bound, before the server serves requests (ZooKeeper's
# docs say so), and a ClickHouse server started then, with replicated tables in its metadata, failed its
# handshake and exited (once, restarting a cluster that held tables).
zk_ok() {
  [[ "$(timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$zk_port && printf srvr >&3 && cat <&3" 2>/dev/null)" == *"Mode: "* ]]
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
4lw.commands.whitelist=ruok,srvr
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
  local shard=$(( ($1 - 1) / replicas + 1 )) replica=r$(( ($1 - 1) % replicas + 1 )) topology="" s r
  for s in $(seq 1 "$shards"); do
    topology+="<shard><internal_replication>true</internal_replication>"
    for r in $(seq 1 "$replicas"); do
      topology+="<replica><host>127.0.0.1</host><port>${tcp[$(( (s - 1) * replicas + r ))]}</port>"
      topology+="<user>$user</user><password>$password</password></replica>"
    done
    topology+="</shard>"
  done
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
        <$cluster>$topology</$cluster>
    </remote_servers>
    <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
    <!-- A SIGKILLed replica comes back with the parts it wrote but never committed to ZooKeeper: their
         INSERTs were not confirmed. In a test's small table they can be most of its rows, and above the
         default ratio (0.5) the server refuses the table and does not start; this moves them to detached. -->
    <merge_tree><replicated_max_ratio_of_wrong_parts>1</replicated_max_ratio_of_wrong_parts></merge_tree>
</yandex>
EOF
}

# users_xml DIR gives user default of DIR/users.xml (Debian's, ch_config copied it) a random password and
# adds $user with $password, from loopback only.
users_xml() {
  local random pw
  random=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  pw=$(printf '%s' "$password" | sed -e 's/[\\#]/\\&/g') # as sed's replacement text
  sed -i -e "0,/<password><\/password>/s##<password>$random</password>#" \
      -e "s#</users>#    <$user><password>$pw</password><networks><ip>::1</ip><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></$user>\n    </users>#" \
      "$1/users.xml"
}

# ch_ok PORT: the server answers a query as $user.
ch_ok() { clickhouse-client --port "$1" --host 127.0.0.1 --user "$user" --password "$password" -q 'SELECT 1' >/dev/null 2>&1; }

# port_busy PORT: something listens there (whoever it lets in).
port_busy() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

start_replica() { # N
  local n=$1 dir=$state/ch$1 pidfile=$state/ch$1/server.pid port=${tcp[$1]}
  if alive "$pidfile"; then log "server $n already running on 127.0.0.1:$port"; return 0; fi
  if port_busy "$port"; then
    log "port $port is taken, but not by a server from $dir: stop it or pick TEPLOKARTA_CH${n}_PORT"; exit 1
  fi
  ch_config "$dir" "$port" "${http[$n]}" "${inter[$n]}"
  users_xml "$dir"
  cluster_xml "$n" >"$dir/config.d/cluster.xml"
  ch_launch "$dir" "$pidfile"
  for _ in $(seq 1 150); do
    if ch_ok "$port"; then
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
  start)
    need_packages clickhouse-server:clickhouse-server clickhouse-client:clickhouse-client /usr/share/java/zookeeper.jar:zookeeper java:default-jre-headless
    mkdir -p "$state"; start_zookeeper
    for n in $(seq 1 "$servers"); do start_replica "$n"; done ;;
  stop)
    for n in $(seq 1 "$servers"); do stop_pidfile "server $n" "$state/ch$n/server.pid"; done
    stop_pidfile zookeeper "$state/zookeeper/zk.pid" ;;
  kill)
    if ! [[ "${2:-}" =~ ^[0-9]+$ ]] || [ "$2" -lt 1 ] || [ "$2" -gt "$servers" ]; then echo "usage: $0 kill 1..$servers" >&2; exit 2; fi
    if alive "$state/ch$2/server.pid"; then kill -9 "$(cat "$state/ch$2/server.pid")"; log "server $2 killed (SIGKILL)"; fi ;;
  status)
    alive "$state/zookeeper/zk.pid" && echo "zookeeper: running on 127.0.0.1:$zk_port" || echo "zookeeper: stopped"
    for n in $(seq 1 "$servers"); do
      alive "$state/ch$n/server.pid" && echo "server $n: running on 127.0.0.1:${tcp[$n]}" || echo "server $n: stopped"
    done ;;
  env)
    addrs=""
    for n in $(seq 1 "$servers"); do addrs+="${addrs:+,}127.0.0.1:${tcp[$n]}"; done
    echo "TEPLOKARTA_CLICKHOUSE_ADDR=$addrs"
    echo "TEPLOKARTA_CLICKHOUSE_CLUSTER=$cluster"
    echo "TEPLOKARTA_CLICKHOUSE_USER=$user"
    printf 'TEPLOKARTA_CLICKHOUSE_PASSWORD=%q\n' "$password" ;;
  *) echo "usage: $0 start|stop|status|env|kill N" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# A local Redis Sentinel set for teplokarta: a master, one replica and three Sentinels (Debian's
# redis-server; `redis-server <conf> --sentinel` is a Sentinel), on loopback, without persistence, with
# short timeouts so a failover completes in a few seconds. docs/redis.md describes how teplokarta uses it.
#
#   deploy/local/sentinel.sh start     start whatever is not running (fresh configs the first time), wait until
#                                      the replica is in sync and every Sentinel knows the others
#   deploy/local/sentinel.sh stop      stop everything and forget the topology (the data lived in memory only)
#   deploy/local/sentinel.sh status    which node is the master, which processes run
#   deploy/local/sentinel.sh env       the processor's settings for this set
#   deploy/local/sentinel.sh kill-master   SIGKILL the current master (the Sentinels fail over; "start" brings
#                                      the killed node back, and the Sentinels make it a replica)
#
# Environment (defaults in brackets):
#   TEPLOKARTA_SENTINEL_STATE_DIR  state directory                  [<repo>/.state/sentinel]
#   TEPLOKARTA_SENTINEL_MASTER     master name                      [teplokarta]
#   TEPLOKARTA_SENTINEL_REDIS_PORTS  the two data nodes' ports      ["16801 16802"] (the first starts as master)
#   TEPLOKARTA_SENTINEL_PORTS      the three Sentinels' ports       ["26801 26802 26803"]
#   TEPLOKARTA_SENTINEL_DOWN_MS    down-after-milliseconds          [1000]
#   TEPLOKARTA_SENTINEL_FAILOVER_MS failover-timeout                [3000]
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
state=${TEPLOKARTA_SENTINEL_STATE_DIR:-$repo/.state/sentinel}
master=${TEPLOKARTA_SENTINEL_MASTER:-teplokarta}
read -r -a nodes <<<"${TEPLOKARTA_SENTINEL_REDIS_PORTS:-16801 16802}"
read -r -a sentinels <<<"${TEPLOKARTA_SENTINEL_PORTS:-26801 26802 26803}"
down_ms=${TEPLOKARTA_SENTINEL_DOWN_MS:-1000}
failover_ms=${TEPLOKARTA_SENTINEL_FAILOVER_MS:-3000}

me=sentinel
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

cli() { redis-cli -h 127.0.0.1 -p "$1" "${@:2}" 2>/dev/null; }

# Config files are written once: Sentinels and nodes rewrite them at every failover (CONFIG REWRITE), and a
# node brought back by "start" must come back with the topology the Sentinels last gave it.
write_node_conf() { # port role
  local dir=$state/redis-$1
  [ -f "$dir/redis.conf" ] && return 0
  mkdir -p "$dir"
  {
    echo "port $1"
    echo "bind 127.0.0.1"
    echo "dir $dir"
    echo "pidfile $dir/redis.pid"
    echo "logfile $dir/redis.log"
    echo "daemonize yes"
    echo 'save ""'
    echo "appendonly no"
    echo "repl-diskless-sync-delay 0" # the default waits 5 s for more replicas before a full sync
    if [ "$2" = replica ]; then echo "replicaof 127.0.0.1 ${nodes[0]}"; fi
  } >"$dir/redis.conf"
}

write_sentinel_conf() { # port
  local dir=$state/sentinel-$1
  [ -f "$dir/sentinel.conf" ] && return 0
  mkdir -p "$dir"
  cat >"$dir/sentinel.conf" <<EOF
port $1
bind 127.0.0.1
dir $dir
pidfile $dir/sentinel.pid
logfile $dir/sentinel.log
daemonize yes
sentinel monitor $master 127.0.0.1 ${nodes[0]} 2
sentinel down-after-milliseconds $master $down_ms
sentinel failover-timeout $master $failover_ms
sentinel parallel-syncs $master 1
EOF
}

start_node() { # port
  local dir=$state/redis-$1
  if alive "$dir/redis.pid"; then return 0; fi
  if cli "$1" ping >/dev/null; then log "port $1 already answers Redis, but not from $dir"; exit 1; fi
  # A node coming back after a failover must not act as a master (with no persistence it is empty): start
  # it as a replica of the master the Sentinels name, rather than wait for them to convert it.
  local m args=()
  if m=$(master_other_than "$1"); then args=(--replicaof 127.0.0.1 "$m"); fi
  redis-server "$dir/redis.conf" "${args[@]}" >/dev/null
  for _ in $(seq 1 50); do cli "$1" ping | grep -q PONG && return 0; sleep 0.1; done
  log "redis on $1 did not start"; tail -n 20 "$dir/redis.log" >&2 || true; exit 1
}

start_sentinel() { # port
  local dir=$state/sentinel-$1
  if alive "$dir/sentinel.pid"; then return 0; fi
  if cli "$1" ping >/dev/null; then log "port $1 already answers, but not from $dir"; exit 1; fi
  redis-server "$dir/sentinel.conf" --sentinel >/dev/null
  for _ in $(seq 1 50); do cli "$1" ping | grep -q PONG && return 0; sleep 0.1; done
  log "sentinel on $1 did not start"; tail -n 20 "$dir/sentinel.log" >&2 || true; exit 1
}

current_master() { # -> port of the master the first answering Sentinel names
  local s
  for s in "${sentinels[@]}"; do
    if out=$(cli "$s" sentinel get-master-addr-by-name "$master") && [ -n "$out" ]; then
      echo "$out" | sed -n 2p; return 0
    fi
  done
  return 1
}

# master_other_than PORT -> the master any Sentinel names other than PORT. Right after a failover the
# Sentinels learn the new master from each other within seconds, and the first one that answers may
# still name the node that died: restarted empty as a master, it could be taken for the master again.
master_other_than() {
  local s out p
  for s in "${sentinels[@]}"; do
    if out=$(cli "$s" sentinel get-master-addr-by-name "$master") && [ -n "$out" ]; then
      p=$(echo "$out" | sed -n 2p)
      if [ -n "$p" ] && [ "$p" != "$1" ]; then echo "$p"; return 0; fi
    fi
  done
  return 1
}

field() { # port field -> value from SENTINEL MASTER <name>
  cli "$1" sentinel master "$master" | awk -v f="$2" 'prev == f { print; exit } { prev = $0 }'
}

# ready: the master answers, every other node is its replica in sync, every Sentinel sees the replicas and
# the other Sentinels (Sentinels find each other through hello messages every 2 s: a failover needs them).
ready() {
  local m s p want_replicas=$((${#nodes[@]} - 1)) want_others=$((${#sentinels[@]} - 1))
  m=$(current_master) || return 1
  cli "$m" role | head -1 | grep -q master || return 1
  for p in "${nodes[@]}"; do
    [ "$p" = "$m" ] && continue
    cli "$p" info replication | grep -q "master_port:$m" || return 1
    cli "$p" info replication | grep -q 'master_link_status:up' || return 1
  done
  for s in "${sentinels[@]}"; do
    [ "$(field "$s" num-slaves)" = "$want_replicas" ] || return 1
    [ "$(field "$s" num-other-sentinels)" = "$want_others" ] || return 1
    [ "$(field "$s" flags)" = master ] || return 1
  done
}

start() {
  need_packages redis-server:redis-server redis-cli:redis-tools
  mkdir -p "$state"
  local i
  for i in "${!nodes[@]}"; do
    if [ "$i" -eq 0 ]; then write_node_conf "${nodes[$i]}" master; else write_node_conf "${nodes[$i]}" replica; fi
  done
  for s in "${sentinels[@]}"; do write_sentinel_conf "$s"; done
  for p in "${nodes[@]}"; do start_node "$p"; done
  for s in "${sentinels[@]}"; do start_sentinel "$s"; done
  for _ in $(seq 1 150); do
    if ready; then log "ready: master $master at 127.0.0.1:$(current_master), Sentinels ${sentinels[*]} (state $state)"; return 0; fi
    sleep 0.1
  done
  log "the set did not become ready in 15 s"; status >&2; exit 1
}

stop_pidfile() { # pidfile
  local pid
  alive "$1" || { rm -f "$1"; return 0; }
  pid=$(cat "$1")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do alive "$1" || { rm -f "$1"; return 0; }; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$1"
}

stop() {
  local s p
  for s in "${sentinels[@]}"; do stop_pidfile "$state/sentinel-$s/sentinel.pid"; done
  for p in "${nodes[@]}"; do stop_pidfile "$state/redis-$p/redis.pid"; done
  # The topology the Sentinels rewrote into the configs meant something only with the data in memory.
  for s in "${sentinels[@]}"; do rm -f "$state/sentinel-$s/sentinel.conf"; done
  for p in "${nodes[@]}"; do rm -f "$state/redis-$p/redis.conf"; done
  log "stopped"
}

status() {
  local m p s
  m=$(current_master) && echo "master $master: 127.0.0.1:$m" || echo "master $master: unknown"
  for p in "${nodes[@]}"; do
    alive "$state/redis-$p/redis.pid" && echo "redis $p: running ($(cli "$p" role | head -1))" || echo "redis $p: stopped"
  done
  for s in "${sentinels[@]}"; do
    alive "$state/sentinel-$s/sentinel.pid" && echo "sentinel $s: running" || echo "sentinel $s: stopped"
  done
}

kill_master() {
  local m
  m=$(current_master) || { log "no Sentinel names a master"; exit 1; }
  alive "$state/redis-$m/redis.pid" || { log "master $m is not running"; exit 1; }
  kill -9 "$(cat "$state/redis-$m/redis.pid")"
  log "killed the master on $m"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env)
    addrs=$(printf '127.0.0.1:%s,' "${sentinels[@]}")
    echo "TEPLOKARTA_REDIS_ADDR=${addrs%,}"
    echo "TEPLOKARTA_REDIS_MASTER=$master" ;;
  kill-master) kill_master ;;
  *) echo "usage: $0 start|stop|status|env|kill-master" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Local stack for teplokarta: Debian's clickhouse-server and redis-server on loopback, state inside the
# checkout. Idempotent: "start" twice is fine, "stop" leaves nothing running.
#
#   deploy/local/stack.sh start|stop|status|env
#
# Environment (defaults in brackets):
#   TEPLOKARTA_STATE_DIR   state directory              [<repo>/.state/local]
#   TEPLOKARTA_CH_PORT     ClickHouse native TCP port    [19000]
#   TEPLOKARTA_CH_HTTP_PORT ClickHouse HTTP port (ping)  [18123]
#   TEPLOKARTA_REDIS_PORT  Redis port                    [16379]
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
state=${TEPLOKARTA_STATE_DIR:-$repo/.state/local}
ch_port=${TEPLOKARTA_CH_PORT:-19000}
ch_http=${TEPLOKARTA_CH_HTTP_PORT:-18123}
redis_port=${TEPLOKARTA_REDIS_PORT:-16379}

me=stack
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

start_clickhouse() {
  local dir=$state/clickhouse pidfile=$state/clickhouse/server.pid
  if alive "$pidfile"; then log "clickhouse already running on 127.0.0.1:$ch_port"; return 0; fi
  if clickhouse-client --port "$ch_port" --host 127.0.0.1 -q 'SELECT 1' >/dev/null 2>&1; then
    log "port $ch_port already answers ClickHouse, but not from $dir: stop it or pick TEPLOKARTA_CH_PORT"; exit 1
  fi
  ch_config "$dir" "$ch_port" "$ch_http"
  ch_launch "$dir" "$pidfile"
  for _ in $(seq 1 100); do
    if clickhouse-client --port "$ch_port" --host 127.0.0.1 -q 'SELECT 1' >/dev/null 2>&1; then
      log "clickhouse ready on 127.0.0.1:$ch_port (state $dir)"; return 0
    fi
    sleep 0.1
  done
  log "clickhouse did not start; last log lines:"; tail -n 20 "$dir/log/stdout.log" "$dir/log/error.log" >&2 || true
  exit 1
}

start_redis() {
  local dir=$state/redis pidfile=$state/redis/redis.pid
  if alive "$pidfile"; then log "redis already running on 127.0.0.1:$redis_port"; return 0; fi
  if redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
    log "port $redis_port already answers Redis, but not from $dir: stop it or pick TEPLOKARTA_REDIS_PORT"; exit 1
  fi
  mkdir -p "$dir"
  redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$dir" --daemonize yes \
    --pidfile "$pidfile" --logfile "$dir/redis.log" --save 60 1000 --appendonly no >/dev/null
  for _ in $(seq 1 100); do
    if redis-cli -p "$redis_port" ping >/dev/null 2>&1; then log "redis ready on 127.0.0.1:$redis_port"; return 0; fi
    sleep 0.1
  done
  log "redis did not start"; tail -n 20 "$dir/redis.log" >&2 || true; exit 1
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
  start) need_packages clickhouse-server:clickhouse-server clickhouse-client:clickhouse-client redis-server:redis-server redis-cli:redis-tools kcat:kcat; mkdir -p "$state"; start_clickhouse; start_redis ;;
  stop) stop_pidfile clickhouse "$state/clickhouse/server.pid"; stop_pidfile redis "$state/redis/redis.pid" ;;
  status)
    alive "$state/clickhouse/server.pid" && echo "clickhouse: running on 127.0.0.1:$ch_port" || echo "clickhouse: stopped"
    alive "$state/redis/redis.pid" && echo "redis: running on 127.0.0.1:$redis_port" || echo "redis: stopped" ;;
  env)
    echo "TEPLOKARTA_CLICKHOUSE_ADDR=127.0.0.1:$ch_port"
    echo "TEPLOKARTA_REDIS_ADDR=127.0.0.1:$redis_port" ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac

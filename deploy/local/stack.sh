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
  mkdir -p "$dir/data" "$dir/tmp" "$dir/log" "$dir/user_files" "$dir/format_schemas" "$dir/config.d"
  cp /etc/clickhouse-server/users.xml "$dir/users.xml"
  # Point every path at the state dir, listen on loopback only, drop includes that need missing files.
  sed -e "0,/<path>/s#<path>.*</path>#<path>$dir/data/</path>#" \
      -e "s#<tmp_path>.*</tmp_path>#<tmp_path>$dir/tmp/</tmp_path>#" \
      -e "s#<user_files_path>.*</user_files_path>#<user_files_path>$dir/user_files/</user_files_path>#" \
      -e "s#<format_schema_path>.*</format_schema_path>#<format_schema_path>$dir/format_schemas/</format_schema_path>#" \
      -e "s#<log>.*</log>#<log>$dir/log/server.log</log>#" \
      -e "s#<errorlog>.*</errorlog>#<errorlog>$dir/log/error.log</errorlog>#" \
      -e "s#<level>trace</level>#<level>warning</level>#" \
      -e '/<listen_host>/d' \
      -e "s#<tcp_port>.*</tcp_port>#<tcp_port>$ch_port</tcp_port>#" \
      -e "s#<http_port>.*</http_port>#<http_port>$ch_http</http_port>#" \
      -e '/<interserver_http_port>/d' \
      -e "s#<users_config>.*</users_config>#<users_config>$dir/users.xml</users_config>#" \
      /etc/clickhouse-server/config.xml > "$dir/config.xml"
  # listen_host must be inside <yandex>: insert it right after the opening tag.
  sed -i "0,/<yandex>/s##<yandex>\n    <listen_host>127.0.0.1</listen_host>#" "$dir/config.xml"
  # Runs in the foreground of a background job (no --daemon), so $! is the server itself.
  # "cd && server &" would background a subshell whose pid is not the server's: cd first.
  (cd "$dir" || exit 1
   nohup clickhouse-server --config-file="$dir/config.xml" >"$dir/log/stdout.log" 2>&1 &
   echo $! >"$pidfile")
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

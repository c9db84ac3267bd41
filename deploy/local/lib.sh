# Shared by the local-stack scripts (stack.sh, cluster.sh, sentinel.sh); sourced, not run. Each script sets
# `me` (its log prefix) before sourcing.

log() { printf '%s: %s\n' "${me:-local}" "$*" >&2; }

# need_packages CHECK:PACKAGE... installs the missing Debian packages as root, or prints the command and
# fails otherwise. A CHECK starting with / is a file that must exist; otherwise a command on PATH.
need_packages() {
  local missing=() spec check pkg
  for spec in "$@"; do
    check=${spec%%:*} pkg=${spec#*:}
    if [[ $check == /* ]]; then
      [ -e "$check" ] || missing+=("$pkg")
    else
      command -v "$check" >/dev/null || missing+=("$pkg")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    log "missing packages: ${missing[*]}"
    log "install them with: sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
  log "installing ${missing[*]} with apt-get"
  # The package lists may be empty on a fresh machine: update once, before installing.
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

alive() { # pidfile -> 0 if the process runs (a zombie counts as dead)
  local pid
  [ -f "$1" ] || return 1
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null
}

# ch_config DIR TCP_PORT HTTP_PORT [INTERSERVER_PORT] writes DIR/config.xml and DIR/users.xml from Debian's
# clickhouse-server defaults: every path under DIR, loopback only, log level warning, no interserver port.
# With INTERSERVER_PORT (a replica, cluster.sh): that port on 127.0.0.1, and no includes of zookeeper,
# macros or remote_servers from files that do not exist (the replica's config.d gives them; remote_servers
# in config.xml holds test clusters, and ours merges in).
ch_config() {
  local dir=$1 tcp=$2 http=$3 inter=${4:-}
  local head='<listen_host>127.0.0.1</listen_host>' extra=(-e '/<interserver_http_port>/d')
  if [ -n "$inter" ]; then
    head="$head\n    <interserver_http_host>127.0.0.1</interserver_http_host>"
    extra=(-e "s#<interserver_http_port>.*</interserver_http_port>#<interserver_http_port>$inter</interserver_http_port>#"
           -e '/<interserver_http_host>/d'
           -e '/<zookeeper incl=/d' -e '/<macros incl=/d' -e 's#<remote_servers incl=.*>#<remote_servers>#')
  fi
  mkdir -p "$dir/data" "$dir/tmp" "$dir/log" "$dir/user_files" "$dir/format_schemas" "$dir/config.d"
  cp /etc/clickhouse-server/users.xml "$dir/users.xml"
  sed -e "0,/<path>/s#<path>.*</path>#<path>$dir/data/</path>#" \
      -e "s#<tmp_path>.*</tmp_path>#<tmp_path>$dir/tmp/</tmp_path>#" \
      -e "s#<user_files_path>.*</user_files_path>#<user_files_path>$dir/user_files/</user_files_path>#" \
      -e "s#<format_schema_path>.*</format_schema_path>#<format_schema_path>$dir/format_schemas/</format_schema_path>#" \
      -e "s#<log>.*</log>#<log>$dir/log/server.log</log>#" \
      -e "s#<errorlog>.*</errorlog>#<errorlog>$dir/log/error.log</errorlog>#" \
      -e "s#<level>trace</level>#<level>warning</level>#" \
      -e '/<listen_host>/d' \
      -e "s#<tcp_port>.*</tcp_port>#<tcp_port>$tcp</tcp_port>#" \
      -e "s#<http_port>.*</http_port>#<http_port>$http</http_port>#" \
      "${extra[@]}" \
      -e "s#<users_config>.*</users_config>#<users_config>$dir/users.xml</users_config>#" \
      /etc/clickhouse-server/config.xml > "$dir/config.xml"
  # listen_host (and interserver_http_host) must be inside <yandex>: right after the opening tag.
  sed -i "0,/<yandex>/s##<yandex>\n    $head#" "$dir/config.xml"
}

# ch_launch DIR PIDFILE starts clickhouse-server on DIR/config.xml in the background and records its pid.
# It runs in the foreground of a background job (no --daemon), so $! is the server itself; "cd && server &"
# would background a subshell whose pid is not the server's: cd first.
ch_launch() {
  (cd "$1" || exit 1
   nohup clickhouse-server --config-file="$1/config.xml" >"$1/log/stdout.log" 2>&1 &
   echo $! >"$2")
}

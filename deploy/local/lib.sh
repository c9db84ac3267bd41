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

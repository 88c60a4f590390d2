# Shared helpers for the host scripts. Sourced, not run.

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }

fail() {
  log "ERROR: $*"
  exit 1
}

# Runs a command or function and prints how long it took.
timed() {
  local start=$SECONDS
  "$@"
  log "$(basename "$1") took $((SECONDS - start))s"
}

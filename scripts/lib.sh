# shellcheck shell=bash
# Shared helpers for the host scripts. Sourced, not run.

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }

fail() {
  log "ERROR${step:+ in step $step}: $*"
  exit 1
}

# The step now running, named in every failure message (set by `timed`).
step=""

# Runs a command or function as a named step and prints how long it took.
timed() {
  local start=$SECONDS outer=$step
  step=$(basename "$1")
  "$@"
  log "$step took $((SECONDS - start))s"
  step=$outer
}

# A script that stops on an unexpected failure (set -e) says where and why: the step, the
# line, the command and its status. Without it, a failing pipeline inside $(...) ends the
# script with no word at all. Reported once, by the main shell, not by each subshell.
report_unexpected_failures() {
  set -o errtrace
  trap 'on_unexpected_failure $? $LINENO "$BASH_COMMAND"' ERR
}

on_unexpected_failure() {
  local status=$1 line=$2 command=$3 hint=""
  [ "$BASH_SUBSHELL" = 0 ] || return "$status"
  trap - ERR
  [ "$status" = 127 ] && hint=" (127: a command was not found)"
  log "ERROR${step:+ in step $step}: line $line: [$command] exited with status $status$hint"
  exit "$status"
}

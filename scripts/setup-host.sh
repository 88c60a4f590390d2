#!/usr/bin/env bash
# Idempotent host set-up for LMGate: a running Docker engine with Compose v2, and base
# images for the stack's Dockerfiles. Safe to run again: every step checks before acting.
#
#   scripts/setup-host.sh            engine + Compose + base images
#   scripts/setup-host.sh --engine   engine + Compose only
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"
report_unexpected_failures

# dockerd and iptables live in sbin, which a non-root user's PATH often lacks.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

want_images=1
[ "${1:-}" = "--engine" ] && want_images=0

# The set-up installs packages only where it knows how: as root on Debian 12 or later
# (trixie's packages are pinned in; Ubuntu and others have /etc/debian_version too, but not
# Debian's suites). Anywhere else it names what to install and stops.
why_cannot_install() {
  local id="" version=""
  if [ -r /etc/os-release ]; then
    # shellcheck source=/dev/null
    id=$(. /etc/os-release && echo "${ID:-}")
    # shellcheck source=/dev/null
    version=$(. /etc/os-release && echo "${VERSION_ID:-}")
  fi
  if [ "$id" != debian ] || ! command -v apt-get >/dev/null; then
    echo "this is not Debian (/etc/os-release says '${id:-nothing}')"
  elif [ "${version%%.*}" -lt 12 ] 2>/dev/null || [ -z "$version" ]; then
    echo "this is Debian '${version:-unknown}', older than 12"
  elif [ "$(id -u)" != 0 ]; then
    echo "it is not running as root (run it as root, or with sudo)"
  fi
}

is_debian_root() { [ -z "$(why_cannot_install)" ]; }

apt_updated=0
apt_update_once() {
  if [ "$apt_updated" = 0 ]; then
    apt-get update -qq
    apt_updated=1
  fi
}

# Debian's trixie suite has what Debian 12 lacks: Docker Engine 26 (the e2e overlay's
# health checks use start_interval, which needs Engine 25) and Compose v2, a static Go
# binary. The pin keeps every other package on the host's own suite; the engine takes
# Debian 12's containerd and runc.
add_trixie_suite() {
  [ -f /etc/apt/sources.list.d/lmgate-trixie.sources ] && return
  cat >/etc/apt/sources.list.d/lmgate-trixie.sources <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  cat >/etc/apt/preferences.d/lmgate-trixie <<'EOF'
Package: *
Pin: release n=trixie
Pin-Priority: 100
EOF
  apt_updated=0
}

MIN_ENGINE_MAJOR=25
# Prints the engine's major version, or nothing when there is no dockerd (a lone docker
# CLI is no engine). Never fails: its caller decides what a missing engine means.
engine_major() {
  command -v dockerd >/dev/null || return 0
  dockerd --version 2>/dev/null | sed -n 's/^Docker version \([0-9]*\)\..*/\1/p' || true
}

stop_daemon_for_upgrade() {
  docker info >/dev/null 2>&1 || return 0
  log "engine: stopping the running daemon for the upgrade (its containers stop too)"
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    systemctl stop docker docker.socket || true
  else
    pkill -x dockerd || true
  fi
  local waited=0
  while pgrep -x dockerd >/dev/null && [ "$waited" -lt 30 ]; do
    sleep 1
    waited=$((waited + 1))
  done
}

install_engine() {
  local major
  major=$(engine_major)
  if [ -n "$major" ] && [ "$major" -ge "$MIN_ENGINE_MAJOR" ]; then
    log "engine: dockerd present ($(dockerd --version))"
    return
  fi
  if ! is_debian_root; then
    if [ -n "$major" ]; then
      fail "Docker Engine $major found; the e2e suite needs $MIN_ENGINE_MAJOR or later (health \
checks with start_interval), and this script cannot upgrade it: $(why_cannot_install). Upgrade it \
(https://docs.docker.com/engine/install/) and run this again."
    fi
    fail "No Docker engine found (no dockerd on PATH$(command -v docker >/dev/null && echo '; a docker CLI alone is no engine')), \
and this script cannot install one: $(why_cannot_install). Install Docker Engine $MIN_ENGINE_MAJOR or later \
(https://docs.docker.com/engine/install/) or Docker Desktop, start it, and run this script again."
  fi
  if [ -n "$major" ]; then
    log "engine: Docker Engine $major is older than $MIN_ENGINE_MAJOR; upgrading to docker.io from Debian trixie"
    stop_daemon_for_upgrade
  elif command -v docker >/dev/null; then
    log "engine: a docker CLI ($(command -v docker)) but no dockerd; installing docker.io from Debian trixie"
  else
    log "engine: no Docker found; installing docker.io from Debian trixie"
  fi
  add_trixie_suite
  apt_update_once
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    docker.io/trixie docker-cli/trixie iptables ca-certificates >/dev/null
  major=$(engine_major)
  if [ -z "$major" ] || [ "$major" -lt "$MIN_ENGINE_MAJOR" ]; then
    fail "docker.io was installed but dockerd reports '$(dockerd --version 2>&1)'."
  fi
}

install_compose() {
  if docker compose version >/dev/null 2>&1; then
    log "compose: $(docker compose version --short 2>/dev/null || docker compose version)"
    return
  fi
  if ! is_debian_root; then
    fail "Docker Compose v2 is missing and this script cannot install it: $(why_cannot_install). Install the docker-compose-plugin package (or Docker \
Desktop) so that 'docker compose version' works, and run this script again."
  fi
  log "compose: installing docker-compose (v2) from Debian trixie, pinned"
  add_trixie_suite
  apt_update_once
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    docker-compose/trixie >/dev/null
  docker compose version >/dev/null 2>&1 || fail "Compose v2 was installed but 'docker compose version' still fails."
}

start_daemon() {
  if docker info >/dev/null 2>&1; then
    log "daemon: running"
    return
  fi
  if [ "$(id -u)" != 0 ]; then
    fail "Docker is installed but its daemon is not reachable (stopped, or this user may not use it). Start it (for example 'sudo systemctl start docker' \
or open Docker Desktop), make sure your user may use it (the 'docker' group), and run this again."
  fi
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    log "daemon: starting with systemctl"
    systemctl start docker
  else
    log "daemon: starting dockerd in the background (log: /var/log/dockerd.log)"
    nohup dockerd >/var/log/dockerd.log 2>&1 </dev/null &
  fi
  local waited=0
  until docker info >/dev/null 2>&1; do
    if [ "$waited" -ge 60 ]; then
      tail -n 30 /var/log/dockerd.log 2>/dev/null || true
      fail "The Docker daemon did not answer within 60 s; see the log above."
    fi
    sleep 1
    waited=$((waited + 1))
  done
  log "daemon: answering after ${waited}s"
}

# Commands the suite and its scripts call on the host: curl (the smoke test), openssl (the
# e2e suite's test CA), pgrep/pkill (this script), shellcheck (npm run lint).
HOST_TOOLS="curl:curl openssl:openssl pgrep:procps shellcheck:shellcheck"
install_host_tools() {
  local pair missing=()
  for pair in $HOST_TOOLS; do
    command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
  done
  if [ "${#missing[@]}" = 0 ]; then
    log "tools: curl, openssl, pgrep and shellcheck present"
    return
  fi
  if ! is_debian_root; then
    fail "missing commands from these packages: ${missing[*]}; this script cannot install them: \
$(why_cannot_install). Install them and run this again."
  fi
  log "tools: installing ${missing[*]} from Debian"
  apt_update_once
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# promtool checks the service's /metrics in the e2e suite. It comes with Debian's
# prometheus package; only its files are unpacked aside, so no Prometheus server is
# installed or started.
PROMTOOL_DIR=/opt/lmgate/prometheus
install_promtool() {
  if command -v promtool >/dev/null || [ -x "$PROMTOOL_DIR/usr/bin/promtool" ]; then
    log "promtool: present"
    return
  fi
  if ! is_debian_root; then
    log "promtool: not found; the metrics test needs it (Debian/Ubuntu: the prometheus package; or set PROMTOOL)"
    return
  fi
  log "promtool: unpacking Debian's prometheus package into $PROMTOOL_DIR"
  apt_update_once
  local tmp
  tmp=$(mktemp -d)
  # Only the metrics test needs it: a failure here is reported, not fatal to the set-up.
  if (cd "$tmp" && apt-get download -qq prometheus 2>/dev/null) && mkdir -p "$PROMTOOL_DIR" &&
    dpkg-deb -x "$tmp"/prometheus_*.deb "$PROMTOOL_DIR" && "$PROMTOOL_DIR/usr/bin/promtool" --version >/dev/null; then
    log "promtool: ready"
  else
    log "promtool: could not be unpacked; the metrics test will fail until promtool is on PATH (or PROMTOOL names it)"
  fi
  rm -rf "$tmp"
}

# The benchmark's load generator (npm run bench); the tests do not need it.
install_wrk() {
  if command -v wrk >/dev/null; then
    log "wrk: present"
    return
  fi
  if ! is_debian_root; then
    log "wrk: not found; npm run bench needs it (Debian/Ubuntu: the wrk package)"
    return
  fi
  apt_update_once
  if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null; then
    log "wrk: installed"
  else
    log "wrk: could not be installed; npm run bench needs it"
  fi
}

timed install_host_tools
timed install_engine
timed install_compose
timed install_promtool
timed install_wrk
timed start_daemon
if [ "$want_images" = 1 ]; then
  timed "$here/build-base-images.sh"
fi
log "host ready"

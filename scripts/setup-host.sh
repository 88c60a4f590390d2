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

want_images=1
[ "${1:-}" = "--engine" ] && want_images=0

is_debian_root() {
  [ "$(id -u)" = 0 ] && [ -r /etc/debian_version ] && command -v apt-get >/dev/null
}

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
engine_major() {
  dockerd --version 2>/dev/null | sed -n 's/^Docker version \([0-9]*\)\..*/\1/p'
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
checks with start_interval). Upgrade it (https://docs.docker.com/engine/install/) and run this again."
    fi
    fail "No Docker engine found. Install Docker Engine $MIN_ENGINE_MAJOR or later \
(https://docs.docker.com/engine/install/) or Docker Desktop, start it, and run this script again."
  fi
  if [ -n "$major" ]; then
    log "engine: Docker Engine $major is older than $MIN_ENGINE_MAJOR; upgrading to docker.io from Debian trixie"
    stop_daemon_for_upgrade
  else
    log "engine: installing docker.io from Debian trixie"
  fi
  add_trixie_suite
  apt_update_once
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    docker.io/trixie docker-cli/trixie iptables ca-certificates >/dev/null
  major=$(engine_major)
  [ -n "$major" ] && [ "$major" -ge "$MIN_ENGINE_MAJOR" ] ||
    fail "docker.io was installed but dockerd reports '$(dockerd --version 2>&1)'."
}

install_compose() {
  if docker compose version >/dev/null 2>&1; then
    log "compose: $(docker compose version --short 2>/dev/null || docker compose version)"
    return
  fi
  if ! is_debian_root; then
    fail "Docker Compose v2 is missing. Install the docker-compose-plugin package (or Docker \
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
    fail "The Docker daemon is not reachable. Start it (for example 'sudo systemctl start docker' \
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

timed install_engine
timed install_compose
timed install_promtool
timed install_wrk
timed start_daemon
if [ "$want_images" = 1 ]; then
  timed "$here/build-base-images.sh"
fi
log "host ready"

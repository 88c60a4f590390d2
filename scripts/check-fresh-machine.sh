#!/usr/bin/env bash
# Proves the README's set-up on a machine that has never had Docker: a clean Debian 12
# container (privileged, so that it can run an engine of its own) with this host's Node.js
# and npm and nothing of Docker, built here from Debian packages (no registry is reachable).
# Inside it: `npm run setup` from a copy of this checkout, then `docker info`, then
# `npm run smoke` (one stack up, checked, and down). Fails when any of them fails. Removes
# its container, its engine's data and its image afterwards.
#
# The host needs a running Docker engine (npm run setup) and debootstrap.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"
report_unexpected_failures

mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
image="lmgate-check/fresh-debian12:$$"
container="lmgate-fresh-machine-$$"
host_ca=${HOST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
rootfs=""

cleanup() {
  docker rm -f -v "$container" >/dev/null 2>&1 || true
  docker image rm -f "$image" >/dev/null 2>&1 || true
  [ -z "$rootfs" ] || rm -rf "$rootfs" "$rootfs.log"
}
trap cleanup EXIT

# A fresh machine of this kind: Debian 12's minimal system, Node.js and npm as the host has
# them (the npm registry reached through the host's CA bundle), no Docker of any sort.
build_fresh_machine() {
  command -v debootstrap >/dev/null || fail "debootstrap is missing (npm run setup installs it)"
  local node npm_dir
  node=$(command -v node)
  npm_dir=$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)
  rootfs=$(mktemp -d /var/tmp/lmgate-fresh.XXXXXX)
  log "building a Debian 12 root with $node ($(node --version)) and npm from $npm_dir"
  if ! debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1; then
    tail -n 20 "$rootfs.log" >&2
    fail "debootstrap of Debian 12 failed; see the lines above"
  fi
  install -m 0755 "$node" "$rootfs/usr/bin/node"
  mkdir -p "$rootfs/usr/lib/node_modules"
  cp -a "$npm_dir" "$rootfs/usr/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/bin/npx"
  if [ -e "$rootfs/usr/bin/docker" ] || [ -e "$rootfs/usr/bin/dockerd" ]; then
    fail "the fresh machine's root has Docker in it"
  fi
  tar -C "$rootfs" --numeric-owner -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'LABEL org.lmgate.check=fresh-machine' - "$image" >/dev/null
  rm -rf "$rootfs" "$rootfs.log"
  rootfs=""
}

# The checkout as git sees it (tracked and new files, nothing ignored: no node_modules,
# no .env, no build output), streamed into the container.
checkout_tar() {
  (cd "$root" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' file; do if [ -e "$file" ]; then printf '%s\0' "$file"; fi; done |
    tar --null -T - -c)
}

timed build_fresh_machine
log "running the README's set-up in $container (a privileged container with its own engine)"
start=$SECONDS
# /var/lib/docker is a volume of its own: the inner engine's overlay storage cannot sit on
# the container's overlay root. It goes with the container (docker rm -v).
status=0
checkout_tar | docker run -i --name "$container" --privileged \
  -v /var/lib/docker \
  -v "$host_ca:/etc/lmgate-host-ca.crt:ro" \
  -e NODE_EXTRA_CA_CERTS=/etc/lmgate-host-ca.crt -e npm_config_cafile=/etc/lmgate-host-ca.crt \
  -e DEBIAN_MIRROR="$mirror" -e npm_config_update_notifier=false \
  "$image" bash -euo pipefail -c '
    mkdir -p /work/lmgate && cd /work/lmgate && tar -x
    say() { printf "[fresh machine] %s\n" "$*" >&2; }
    say "before: $(command -v docker dockerd || echo "no docker, no dockerd") · node $(node --version) · npm $(npm --version)"
    say "npm run setup"
    npm run setup
    say "docker info"
    docker info --format "engine {{.ServerVersion}}, storage {{.Driver}}, cgroup v{{.CgroupVersion}}"
    say "npm run smoke: one stack up and down"
    npm run smoke
    say "the set-up works on a machine that never had Docker"
  ' || status=$?
[ "$status" = 0 ] || fail "the README's set-up failed on a fresh Debian 12 machine (status $status); see above"
log "fresh-machine set-up, engine and one stack up and down: $((SECONDS - start))s"

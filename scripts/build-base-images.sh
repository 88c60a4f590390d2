#!/usr/bin/env bash
# Makes sure the base images named by the Dockerfiles exist. When an official image can
# be neither found locally nor pulled (no registry reachable), builds a stand-in from
# Debian trixie packages (debootstrap + docker import) and records it in the project's
# .env, which Compose reads for the build arguments. Stand-ins already built are reused.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"
report_unexpected_failures

official_nginx=${NGINX_OFFICIAL_IMAGE:-nginx:1.27-bookworm}
official_node=${NODE_OFFICIAL_IMAGE:-node:20-bookworm-slim}
standin_nginx=lmgate-base/nginx:trixie
standin_node=lmgate-base/node:trixie
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
env_file="$root/.env"

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

can_use_official() {
  image_exists "$1" && return 0
  log "trying to pull $1"
  timeout 30 docker pull -q "$1" >/dev/null 2>&1
}

# Records KEY=VALUE in .env, replacing an earlier value of KEY.
set_env() {
  touch "$env_file"
  grep -v "^$1=" "$env_file" >"$env_file.tmp" || true
  echo "$1=$2" >>"$env_file.tmp"
  mv "$env_file.tmp" "$env_file"
}

unset_env() {
  [ -f "$env_file" ] || return 0
  grep -v "^$1=" "$env_file" >"$env_file.tmp" || true
  mv "$env_file.tmp" "$env_file"
}

ensure_debootstrap() {
  command -v debootstrap >/dev/null && return
  image_exists "$standin_nginx" && image_exists "$standin_node" && return
  [ "$(id -u)" = 0 ] || fail "debootstrap is needed to build base images; install it (apt-get install debootstrap) and run again."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
}

# build_standin TAG PACKAGES USER UID FIXUP: a minimal trixie root with PACKAGES, a system
# user shaped like the official image's, then FIXUP run inside it, imported as TAG.
build_standin() {
  local tag=$1 packages=$2 user=$3 uid=$4 fixup=$5
  local dir
  dir=$(mktemp -d /var/tmp/lmgate-rootfs.XXXXXX)
  log "building $tag from Debian trixie ($packages)"
  if ! debootstrap --variant=minbase --include="$packages" trixie "$dir" "$mirror" >"$dir.log" 2>&1; then
    tail -n 20 "$dir.log" >&2
    rm -rf "$dir" "$dir.log"
    fail "debootstrap of $tag failed; see the lines above."
  fi
  chroot "$dir" /bin/sh -ec "groupadd --system --gid $uid $user; \
    useradd --system --uid $uid --gid $uid --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin $user; \
    $fixup; apt-get clean; rm -rf /var/lib/apt/lists/* /var/cache/apt/*"
  tar -C "$dir" --numeric-owner -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --message "LMGate stand-in for an official base image, from Debian trixie packages" \
    - "$tag" >/dev/null
  rm -rf "$dir" "$dir.log"
}

# The official nginx image keeps its modules under /etc/nginx/modules; the config loads
# njs from there, so the stand-in offers the same path.
nginx_fixup='ln -sfn /usr/lib/nginx/modules /etc/nginx/modules; rm -f /etc/nginx/sites-enabled/default'
node_fixup='true'

# ensure_image VAR ...: prints the image to use for build argument VAR.
ensure_image() {
  local var=$1 official=$2 standin=$3 packages=$4 user=$5 uid=$6 fixup=$7
  if can_use_official "$official"; then
    log "$var: using $official"
    echo "$official"
    return
  fi
  if image_exists "$standin"; then
    log "$var: reusing stand-in $standin"
  else
    timed build_standin "$standin" "$packages" "$user" "$uid" "$fixup"
  fi
  echo "$standin"
}

choices=$(mktemp -d)
trap 'rm -rf "$choices"' EXIT
ensure_debootstrap
# The two builds are mostly downloads and unpacking: run them side by side.
ensure_image NGINX_BASE_IMAGE "$official_nginx" "$standin_nginx" \
  nginx,libnginx-mod-http-js,ca-certificates nginx 101 "$nginx_fixup" >"$choices/nginx" &
nginx_job=$!
ensure_image NODE_BASE_IMAGE "$official_node" "$standin_node" \
  nodejs,ca-certificates node 1000 "$node_fixup" >"$choices/node" &
node_job=$!
status=0
wait "$nginx_job" || status=1
wait "$node_job" || status=1
[ "$status" = 0 ] || fail "a base image could not be provided; see the messages above."

record_choice() {
  if [ "$2" = "$3" ]; then unset_env "$1"; else set_env "$1" "$2"; fi
}
record_choice NGINX_BASE_IMAGE "$(cat "$choices/nginx")" "$official_nginx"
record_choice NODE_BASE_IMAGE "$(cat "$choices/node")" "$official_node"
log "base images ready (choices in $env_file)"

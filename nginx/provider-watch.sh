#!/bin/bash
# Watches the providers' addresses for nginx (started by start.sh beside it): nginx 1.26
# resolves the names of its upstream blocks only when it loads its configuration (`server
# … resolve` needs 1.27.3). Every <interval> seconds the names are looked up; when a name
# no longer answers any of the addresses nginx loaded for it, and every name resolves, the
# master process gets SIGHUP: a graceful reload keeps running calls and streams on the old
# workers, which write their calls' stats records as they end.
#
# usage: provider-watch.sh <interval seconds> <nginx.conf> <nginx master pid>
set -euo pipefail

interval=$1
conf=$2
master=$3

# The provider names of the upstream blocks (the configuration does not change under us).
mapfile -t provider_names < <(sed -nE 's/^[[:space:]]*server[[:space:]]+([A-Za-z0-9.-]+):443\b.*/\1/p' "$conf" | sort -u)

# Sets $current: each provider name with its IPv4 addresses, a line each. Fails when a
# name does not resolve (a reload would then fail too). It runs every interval, so it
# forks once per name (getent) and does the rest in bash.
lookup_providers() {
  local name answer address found
  current=''
  for name in "${provider_names[@]}"; do
    answer=$(getent ahostsv4 "$name") || return 1
    found=''
    while read -r address _; do
      case " $found " in *" $address "*) ;; *) found+=" $address" ;; esac
    done <<<"$answer"
    [ -n "$found" ] || return 1
    current+="$name$found"$'\n'
  done
}

# True when some name answers none of the addresses nginx loaded for it: a rotating DNS
# answer that still includes one of them is no reason to reload.
moved() {
  local loaded=$1 current=$2 name addresses address
  while read -r name addresses; do
    [ -n "$name" ] || continue
    local still=0
    for address in $addresses; do
      case " $(grep "^$name " <<<"$current" | cut -d' ' -f2-) " in *" $address "*) still=1 ;; esac
    done
    [ "$still" = 1 ] || return 0
  done <<<"$loaded"
  return 1
}

watch_provider_addresses() {
  if ! command -v getent >/dev/null; then
    echo "lmgate: getent is missing: provider addresses are not watched (restart nginx after a provider moves)" >&2
    return
  fi
  local loaded current
  lookup_providers || true
  loaded=$current
  while sleep "$interval"; do
    lookup_providers || continue
    [ "$current" != "$loaded" ] || continue
    if moved "$loaded" "$current"; then
      echo "lmgate: provider addresses changed, reloading nginx: $(echo "$current" | tr '\n' ';')" >&2
      kill -HUP "$master" && loaded=$current
    fi
  done
}

watch_provider_addresses

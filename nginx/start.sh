#!/bin/bash
# The gateway container's entry point: nginx (by exec, so it gets the container's signals)
# with two helpers beside it.
#
# - nginx puts the request line into every error-log line about a request, and Vertex AI
#   takes the API key in the query (?key=…): the error log passes through sed, which masks
#   that parameter as the access log (nginx.conf) and the stats file
#   (lmgate/src/records.ts) do — also in other case or percent-encoded (k%65y=).
# - nginx 1.26 resolves the providers' names of its upstream blocks only when it loads its
#   configuration (`server … resolve` needs 1.27.3). A watcher looks the names up every
#   LMGATE_RESOLVE_INTERVAL_SECONDS (default 10) and, when their addresses changed and all
#   still resolve, makes nginx reload: a graceful reload keeps running calls and streams
#   on the old workers, and the queued stats records in shared memory.
set -euo pipefail

conf=/etc/nginx/nginx.conf
interval=${LMGATE_RESOLVE_INTERVAL_SECONDS:-10}

# Each provider name of the upstream blocks with its sorted IPv4 addresses; fails when a
# name does not resolve (a reload would then fail too).
provider_addresses() {
  local name found
  for name in $(sed -nE 's/^[[:space:]]*server[[:space:]]+([A-Za-z0-9.-]+):443\b.*/\1/p' "$conf" | sort -u); do
    found=$(getent ahostsv4 "$name" | awk '{print $1}' | sort -u | tr '\n' ' ') || return 1
    [ -n "$found" ] || return 1
    echo "$name $found"
  done
}

watch_provider_addresses() {
  local known current
  known=$(provider_addresses || true)
  while sleep "$interval"; do
    current=$(provider_addresses) || continue
    if [ "$current" != "$known" ]; then
      echo "lmgate: provider addresses changed, reloading nginx: $(echo "$current" | tr '\n' ';')" >&2
      # $$ is the shell that becomes nginx by exec below: the master process.
      kill -HUP $$ && known=$current
    fi
  done
}

watch_provider_addresses &
exec nginx -g 'daemon off;' "$@" 2> >(exec sed -u -E 's/([?&](k|%6b|%4b)(e|%65|%45)(y|%79|%59)=)[^&[:space:]"]*/\1***/gI' >&2)

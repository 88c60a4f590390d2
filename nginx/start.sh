#!/bin/bash
# The gateway container's entry point: it checks nginx's settings and renders them (the
# /tmp includes of nginx.conf), then becomes nginx (by exec, so it gets the container's
# signals), with two helpers beside it.
#
# - nginx puts the request line into every error-log line about a request, and Vertex AI
#   takes the API key in the query (?key=…, also ?$key=, ?access_token=, ?oauth_token=):
#   the error log passes through sed, which masks
#   that parameter as the access log (njs/lmgate_secrets.js) and the stats file
#   (lmgate/src/records.ts) do — also in other case, percent-encoded (k%65y=), after an
#   encoded separator (%3F, %26), every one of them.
# - the watcher of the providers' addresses (provider-watch.sh), which reloads nginx when a
#   provider moved.
#
# Every setting's default is in the settings table (config/settings.json, copied into the
# image): an unset or empty variable takes it.
set -euo pipefail

conf=/etc/nginx/nginx.conf
settings=/etc/nginx/lmgate/settings.json

# The default of one of nginx's settings: its row of the table (one row per line).
default_of() {
  local value
  value=$(grep -E "\"name\": *\"$1\"" "$settings" | sed -nE 's/.*"default": *"?([^",}]*)"?.*/\1/p')
  if [ -z "$value" ]; then
    echo "lmgate: $settings has no default for $1" >&2
    return 1
  fi
  echo "$value"
}

# The variable's value, or the table's default when it is unset or empty.
value_of() {
  local name=$1
  if [ -n "${!name:-}" ]; then echo "${!name}"; else default_of "$name"; fi
}

interval=$(value_of LMGATE_RESOLVE_INTERVAL_SECONDS)
if ! [[ $interval =~ ^[1-9][0-9]*$ ]] || [ "$interval" -gt 86400 ]; then
  echo "lmgate: LMGATE_RESOLVE_INTERVAL_SECONDS must be a whole number of seconds from 1 to 86400, not '$interval'" >&2
  exit 1
fi

# nginx's resolver (nginx.conf includes this file) is the container's own: Docker's DNS
# (127.0.0.11) under Compose, whatever /etc/resolv.conf names elsewhere.
nameserver=$(awk '$1 == "nameserver" { print $2; exit }' /etc/resolv.conf 2>/dev/null || true)
case "$nameserver" in
  "") nameserver=127.0.0.11 ;;
  *:*) nameserver="[$nameserver]" ;;
esac
echo "resolver $nameserver valid=2s ipv6=off;" >/tmp/lmgate-resolver.conf

# Timeouts an operator (or a test stack) may set; nginx.conf includes the files written here.
duration() {
  local name=$1 value=$2
  if ! [[ $value =~ ^[1-9][0-9]*(ms|s)$ ]]; then
    echo "lmgate: $name must be a duration such as 3s or 500ms, not '$value'" >&2
    exit 1
  fi
  echo "$value"
}
# How long an allow or refuse decision of the service is kept, per set of key headers.
auth_cache_ttl=$(duration LMGATE_AUTH_CACHE_TTL "$(value_of LMGATE_AUTH_CACHE_TTL)")
printf 'js_shared_dict_zone zone=lmgate_auth_decisions:16m timeout=%s type=string evict;\n' "$auth_cache_ttl" >/tmp/lmgate-auth-cache.conf
# How long nginx waits for the service's answer about a key before refusing the call.
auth_timeout=$(duration LMGATE_AUTH_TIMEOUT "$(value_of LMGATE_AUTH_TIMEOUT)")
# How long nginx waits for a provider's TCP and TLS handshakes (then 504).
provider_connect_timeout=$(duration LMGATE_PROVIDER_CONNECT_TIMEOUT "$(value_of LMGATE_PROVIDER_CONNECT_TIMEOUT)")
printf 'proxy_send_timeout %s;\nproxy_read_timeout %s;\n' "$auth_timeout" "$auth_timeout" >/tmp/lmgate-auth-timeouts.conf
printf 'proxy_connect_timeout %s;\n' "$provider_connect_timeout" >/tmp/lmgate-provider-timeouts.conf
# How long a graceful stop waits for calls in flight before nginx closes them itself: a
# call closed by nginx still reaches its log phase and gets its record; one still open
# when Docker's SIGKILL comes (stop_grace_period) would get none.
shutdown_timeout=$(duration LMGATE_SHUTDOWN_TIMEOUT "$(value_of LMGATE_SHUTDOWN_TIMEOUT)")
printf 'worker_shutdown_timeout %s;\n' "$shutdown_timeout" >/tmp/lmgate-shutdown.conf
# Beside nginx: the watcher of the providers' addresses (provider-watch.sh), which makes
# nginx reload when a provider moved. $$ is this shell, which becomes nginx's master by the
# exec below.
/usr/local/bin/lmgate-provider-watch "$interval" "$conf" $$ &
exec nginx -g 'daemon off;' "$@" 2> >(exec sed -u -E 's/(([?&]|%3f|%26)(\$|%24)?((k|%6b|%4b)(e|%65|%45)(y|%79|%59)|(a|%61|%41)(c|%63|%43)(c|%63|%43)(e|%65|%45)(s|%73|%53)(s|%73|%53)(_|%5f)(t|%74|%54)(o|%6f|%4f)(k|%6b|%4b)(e|%65|%45)(n|%6e|%4e)|(o|%6f|%4f)(a|%61|%41)(u|%75|%55)(t|%74|%54)(h|%68|%48)(_|%5f)(t|%74|%54)(o|%6f|%4f)(k|%6b|%4b)(e|%65|%45)(n|%6e|%4e))=)[^&#?[:space:]"]*/\1***/gI' >&2)

#!/usr/bin/env bash
# Smoke test of the deployable stack, exactly as docker-compose.yaml deploys it, with one
# change: provider names point at a local address that refuses connections (see
# docker-compose.smoke.yaml), so no call leaves the machine. Cleans up after itself.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"
report_unexpected_failures
cd "$root"

project="lmgate-smoke-$$"
data_dir=$(mktemp -d /tmp/lmgate-smoke.XXXXXX)
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
key="sk-smoke-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null; then
  compose=(docker-compose)
else
  fail "neither 'docker compose' nor 'docker-compose' works; run scripts/setup-host.sh"
fi
compose+=(-p "$project" -f docker-compose.yaml -f docker-compose.smoke.yaml)
export LMGATE_DATA_DIR="$data_dir" LMGATE_PORT="$port"

cleanup() {
  "${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
  rm -rf "$data_dir"
}
trap cleanup EXIT

printf 'id,api_key,owner,added\n7,%s,smoke,2026-01-01\n' "$key" >"$data_dir/allowlist.csv"
# The service runs unprivileged: it must be able to write its stats file here.
chmod 0777 "$data_dir"

# The image copies the host-built bundle: build it from the sources as they are now.
npm run build >/dev/null
start=$SECONDS
"${compose[@]}" up -d --build >/dev/null 2>&1 || {
  "${compose[@]}" ps -a
  "${compose[@]}" logs --tail 40
  fail "the stack did not become healthy"
}
log "stack up in $((SECONDS - start))s on 127.0.0.1:$port"
# A rebuilt image leaves its previous build dangling: remove this project's, and only those.
docker image prune --force --filter label=org.lmgate.image >/dev/null

failures=0
check() {
  local what=$1 expected=$2 actual=$3
  if [ "$actual" = "$expected" ]; then
    log "ok   $what"
  else
    log "FAIL $what: expected [$expected], got [$actual]"
    failures=$((failures + 1))
  fi
}

base="http://127.0.0.1:$port"
forbidden='{"error":{"type":"forbidden","message":"API key not authorized"}}'
status_of() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# nginx answers /healthz once it is up; give it a moment after the container started.
for _ in $(seq 1 50); do [ "$(status_of "$base/healthz")" = 200 ] && break; sleep 0.1; done
check "/healthz through nginx" "ok" "$(curl -s "$base/healthz")"
# The configuration as shipped, with the includes start.sh rendered from the settings
# table's defaults: what nginx -t says of it in the running container.
check "nginx -t: the shipped configuration, rendered, is valid" "2" \
  "$("${compose[@]}" exec -T nginx nginx -t 2>&1 | grep -cE 'syntax is ok|test is successful')"
check "no key: 403" "403" "$(status_of -X POST "$base/openai/v1/chat/completions" -d '{}')"
check "no key: 403 JSON body" "$forbidden" "$(curl -s -X POST "$base/openai/v1/chat/completions" -d '{}')"
check "unknown key: 403 JSON body" "$forbidden" \
  "$(curl -s -X POST -H 'Authorization: Bearer sk-not-on-the-list' "$base/anthropic/v1/messages" -d '{}')"
check "allowed key passes auth, provider unreachable: 502" "502" \
  "$(status_of -X POST -H "Authorization: Bearer $key" "$base/openai/v1/chat/completions" -d '{}')"
check "allowed x-api-key passes auth: 502" "502" \
  "$(status_of -X POST -H "x-api-key: $key" "$base/anthropic/v1/messages" -d '{}')"
check "unknown route: 404" "404" "$(status_of "$base/v1/chat/completions")"
# The refused-connection call above was proxied (it passed auth): it has its stats line.
stats_502=""
for _ in $(seq 1 40); do
  stats_502=$(grep -c '"status":502' "$data_dir/stats.jsonl" 2>/dev/null || true)
  [ "${stats_502:-0}" -ge 2 ] && break
  sleep 0.5
done
check "the two 502 calls have stats lines with error_type http_502" "2" \
  "$(grep '"status":502' "$data_dir/stats.jsonl" 2>/dev/null | grep -c '"error_type":"http_502"' || true)"
check "service /auth not routed: 404" "404" "$(status_of -H "Authorization: Bearer $key" "$base/auth")"
check "service /stats not routed: 404" "404" "$(status_of -X POST "$base/stats" -d '{}')"
service_ports=$(docker ps --filter "label=com.docker.compose.project=$project" \
  --filter "label=com.docker.compose.service=lmgate" --format '{{.Ports}}')
check "service port not published on the host" "no" "$(grep -q -- '->' <<<"$service_ports" && echo yes || echo no)"
check "nginx published on 127.0.0.1 only" "127.0.0.1:$port" "$("${compose[@]}" port nginx 8080)"

# The gateway's timing variables: a value it cannot use stops it at once, naming the variable.
refused_start() {
  docker run --rm -e "$1" "lmgate/nginx:${LMGATE_IMAGE_TAG:-local}" 2>&1 >/dev/null | grep -c "${1%%=*} must be" || true
}
check "LMGATE_AUTH_TIMEOUT=soon refused, by name" "1" "$(refused_start LMGATE_AUTH_TIMEOUT=soon)"
check "LMGATE_PROVIDER_CONNECT_TIMEOUT=0s refused, by name" "1" "$(refused_start LMGATE_PROVIDER_CONNECT_TIMEOUT=0s)"
check "LMGATE_AUTH_CACHE_TTL=2 refused, by name" "1" "$(refused_start LMGATE_AUTH_CACHE_TTL=2)"
check "LMGATE_RESOLVE_INTERVAL_SECONDS=0 refused, by name" "1" "$(refused_start LMGATE_RESOLVE_INTERVAL_SECONDS=0)"
check "LMGATE_SHUTDOWN_TIMEOUT=never refused, by name" "1" "$(refused_start LMGATE_SHUTDOWN_TIMEOUT=never)"

"${compose[@]}" down -v --remove-orphans >/dev/null 2>&1
left=$(docker ps -aq --filter "label=com.docker.compose.project=$project"; \
  docker network ls -q --filter "label=com.docker.compose.project=$project"; \
  docker volume ls -q --filter "label=com.docker.compose.project=$project")
check "down -v leaves no container, network or volume" "" "$left"

[ "$failures" = 0 ] || fail "$failures smoke check(s) failed"
log "all smoke checks passed"

#!/bin/bash
# nginx puts the request line into every error-log line about a request, and Vertex AI
# takes the API key in the query (?key=…): the error log passes through this filter, which
# masks that parameter as the access log (nginx.conf) and the stats file
# (lmgate/src/records.ts) do — also in other case or percent-encoded (k%65y=). nginx stays
# PID 1 and gets the container's signals itself.
set -euo pipefail
exec nginx -g 'daemon off;' "$@" 2> >(exec sed -u -E 's/([?&](k|%6b|%4b)(e|%65|%45)(y|%79|%59)=)[^&[:space:]"]*/\1***/gI' >&2)

// Secrets kept out of nginx's access log (njs 0.8).
//
// A `key` query parameter (Vertex AI's API key) is masked by the rule of the service's
// QUERY_KEY (lmgate/src/records.ts) and of the error log's filter (nginx/start.sh): after
// `?` or `&` (also percent-encoded), the name in any case or percent-encoded, every one.

var QUERY_KEY = /((?:[?&]|%3f|%26)(?:k|%6b|%4b)(?:e|%65|%45)(?:y|%79|%59)=)[^&#?\s"]*/gi;

function maskQueryKey(text) {
    return text.replace(QUERY_KEY, '$1***');
}

// For js_set: the request line's URI as the client sent it (undecoded), masked.
function loggedRequestUri(r) {
    return maskQueryKey(r.variables.request_uri || '');
}

export default { loggedRequestUri: loggedRequestUri };

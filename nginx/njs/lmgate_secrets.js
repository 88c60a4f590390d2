// Secrets kept out of nginx's access log (njs 0.8).
//
// A credential query parameter (`key`, `access_token`, `oauth_token`, each also after `$`:
// the ones lmgate_credentials.js reads) is masked by the rule of the service's QUERY_KEY
// (lmgate/src/records.ts) and of the error log's filter (nginx/start.sh): after `?` or `&`
// (also percent-encoded), the name in any case or percent-encoded, every one.

var QUERY_KEY = /((?:[?&]|%3f|%26)(?:\$|%24)?(?:(?:k|%6b|%4b)(?:e|%65|%45)(?:y|%79|%59)|(?:a|%61|%41)(?:c|%63|%43)(?:c|%63|%43)(?:e|%65|%45)(?:s|%73|%53)(?:s|%73|%53)(?:_|%5f)(?:t|%74|%54)(?:o|%6f|%4f)(?:k|%6b|%4b)(?:e|%65|%45)(?:n|%6e|%4e)|(?:o|%6f|%4f)(?:a|%61|%41)(?:u|%75|%55)(?:t|%74|%54)(?:h|%68|%48)(?:_|%5f)(?:t|%74|%54)(?:o|%6f|%4f)(?:k|%6b|%4b)(?:e|%65|%45)(?:n|%6e|%4e))=)[^&#?\s"]*/gi;

function maskQueryKey(text) {
    return text.replace(QUERY_KEY, '$1***');
}

// For js_set: the request line's URI as the client sent it (undecoded), masked.
function loggedRequestUri(r) {
    return maskQueryKey(r.variables.request_uri || '');
}

export default { loggedRequestUri: loggedRequestUri };

// The key headers (spec §3), one definition for every part of nginx that reads them: the
// auth decision's cache key, the headers sent to the service's GET /auth, and the stats
// record. The service reads them by the same rule (lmgate/src/keys.ts).
//
// A header is a key header when its name, lower-cased and with '_' read as '-', is
// `authorization` or `x-api-key`. nginx's own $http_x_api_key would also match
// `x_api_key`, but r.headersIn['x-api-key'] would not: reading raw headers by one rule
// leaves no spelling that one part sees and another misses.

function canonicalName(name) {
    return name.toLowerCase().replace(/_/g, '-');
}

// Every value of each key header, in the order sent.
function keyHeaders(r) {
    var found = { authorization: [], xApiKey: [] };
    var raw = r.rawHeadersIn;
    for (var i = 0; i < raw.length; i++) {
        var name = canonicalName(raw[i][0]);
        if (name === 'authorization') {
            found.authorization.push(raw[i][1]);
        } else if (name === 'x-api-key') {
            found.xApiKey.push(raw[i][1]);
        }
    }
    return found;
}

// A key header sent more than once is a refusal: which one counts would be a guess that
// the provider might make differently.
function isRepeated(headers) {
    return headers.authorization.length > 1 || headers.xApiKey.length > 1;
}

function single(values) {
    return values.length === 1 ? values[0] : '';
}

// For js_set in the auth subrequest's location: the values sent to the service. Empty (so
// not sent) when absent or repeated.
function authorization(r) {
    return single(keyHeaders(r).authorization);
}

function xApiKey(r) {
    return single(keyHeaders(r).xApiKey);
}

export default {
    keyHeaders: keyHeaders,
    isRepeated: isRepeated,
    single: single,
    authorization: authorization,
    xApiKey: xApiKey
};

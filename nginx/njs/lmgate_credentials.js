// The credentials of a call (spec §3), one definition for every part of nginx that reads
// them: the auth decision and its cache key, what the service's GET /auth is asked with,
// and the stats record. The service reads them by the same rule (lmgate/src/keys.ts); the
// same table of spellings drives both (lmgate/test/fixtures/key-header-spellings.json).
//
// The places a provider may read a key from: the headers `Authorization` (Bearer),
// `x-api-key` and `x-goog-api-key`, their names lower-cased and with '_' read as '-'
// (nginx's $http_x_api_key would also match `x_api_key`, but r.headersIn['x-api-key']
// would not: reading raw headers by one rule leaves no spelling one part sees and another
// misses), and the query parameters Google's APIs read a credential from (its "system
// parameters"): `key` and `$key` (the API key), `access_token` and `oauth_token` (an OAuth
// token, as a Bearer): a name percent-decoded, its ASCII letters in any case (only those:
// the Kelvin sign lower-cases to `k` in JavaScript, no provider reads it as one). All of
// them are one place. A call passes only when every place present carries the same key,
// each once.

var HEADER_PLACES = { 'authorization': 'authorization', 'x-api-key': 'xApiKey', 'x-goog-api-key': 'xGoogApiKey' };
var PLACES = ['authorization', 'xApiKey', 'xGoogApiKey', 'queryKey'];
var BEARER = /^\s*bearer\s+([\s\S]*)$/i;
var QUERY_KEY_NAMES = ['key', '$key', 'access_token', 'oauth_token'];

function canonicalName(name) {
    return name.toLowerCase().replace(/_/g, '-');
}

function asciiLowerCase(text) {
    return text.replace(/[A-Z]+/g, function (letters) { return letters.toLowerCase(); });
}

// The raw values of the credential parameters of the request URI's query.
function queryKeys(requestUri) {
    var start = requestUri.indexOf('?');
    var found = [];
    if (start < 0) {
        return found;
    }
    var parameters = requestUri.slice(start + 1).split('#')[0].split('&');
    for (var i = 0; i < parameters.length; i++) {
        var equals = parameters[i].indexOf('=');
        var rawName = equals < 0 ? parameters[i] : parameters[i].slice(0, equals);
        var name;
        try {
            name = decodeURIComponent(rawName);
        } catch (e) {
            // A name that cannot be read might be `key`: counted as a `key` without a value.
            found.push('');
            continue;
        }
        if (QUERY_KEY_NAMES.indexOf(asciiLowerCase(name)) >= 0) {
            found.push(equals < 0 ? '' : parameters[i].slice(equals + 1));
        }
    }
    return found;
}

// Every value of every place, in the order sent.
function credentials(r) {
    var found = { authorization: [], xApiKey: [], xGoogApiKey: [], queryKey: queryKeys(r.variables.request_uri || '') };
    var raw = r.rawHeadersIn;
    for (var i = 0; i < raw.length; i++) {
        var name = canonicalName(raw[i][0]);
        if (Object.prototype.hasOwnProperty.call(HEADER_PLACES, name)) {
            found[HEADER_PLACES[name]].push(raw[i][1]);
        }
    }
    return found;
}

function keyIn(place, value) {
    var key;
    if (place === 'authorization') {
        var bearer = BEARER.exec(value);
        key = bearer ? bearer[1].trim() : '';
    } else if (place === 'queryKey') {
        try {
            key = decodeURIComponent(value.replace(/\+/g, ' '));
        } catch (e) {
            key = '';
        }
    } else {
        key = value.trim();
    }
    return key || null;
}

// The one key the call carries, or null (a refusal): no credential, a place repeated, a
// credential without a key, or two different keys.
function callKey(found) {
    var key = null;
    for (var i = 0; i < PLACES.length; i++) {
        var values = found[PLACES[i]];
        if (values.length > 1) {
            return null;
        }
        if (values.length === 1) {
            var one = keyIn(PLACES[i], values[0]);
            if (one === null || (key !== null && one !== key)) {
                return null;
            }
            key = one;
        }
    }
    return key;
}

function single(values) {
    return values.length === 1 ? values[0] : '';
}

// For js_set in the auth subrequest's location: each place as the service is asked about
// it, one value each (empty, so not sent, when absent or repeated).
function authorization(r) {
    return single(credentials(r).authorization);
}

function xApiKey(r) {
    return single(credentials(r).xApiKey);
}

function xGoogApiKey(r) {
    return single(credentials(r).xGoogApiKey);
}

// The query of the service's GET /auth: the call's one credential parameter, as sent,
// named `key`, or nothing.
function authQuery(r) {
    var keys = credentials(r).queryKey;
    return keys.length === 1 ? '?key=' + keys[0] : '';
}

export default {
    credentials: credentials,
    callKey: callKey,
    single: single,
    authorization: authorization,
    xApiKey: xApiKey,
    xGoogApiKey: xGoogApiKey,
    authQuery: authQuery
};

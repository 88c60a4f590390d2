// Auth decisions for nginx.conf's auth_request (njs 0.8).
//
// check (js_content of the auth_request location): answers from the lmgate_auth_decisions
//        zone when it holds a decision for exactly these credentials, else asks the service
//        (GET /auth through the /_lmgate_auth_service location) and keeps its answer there.
//        The zone's own timeout (nginx.conf) is the decisions' lifetime. Only the service's
//        200 and 403 are kept; anything else is a refusal that is not kept, so the next
//        call asks again.
import crypto from 'crypto';
import credentials from 'lmgate_credentials.js';

var ALLOW_PREFIX = 'allow:';
var DENY = 'deny';

// A digest of every value of every credential (lmgate_credentials.js): a kept decision is
// shared only by requests that carry the very same credentials in the very same places,
// and no key is kept in memory. JSON keeps the lists apart: no two different sets encode
// alike.
function decisionKey(found) {
    return crypto.createHash('sha256')
        .update(JSON.stringify([found.authorization, found.xApiKey, found.xGoogApiKey, found.queryKey]))
        .digest('hex');
}

function answer(r, decision) {
    if (decision.indexOf(ALLOW_PREFIX) === 0) {
        r.headersOut['X-LMGate-ID'] = decision.slice(ALLOW_PREFIX.length);
        r.return(200);
    } else {
        r.return(403);
    }
}

function keep(key, decision) {
    try {
        ngx.shared.lmgate_auth_decisions.set(key, decision);
    } catch (e) {
        // A full zone only costs the next call a question to the service.
    }
}

async function check(r) {
    var found = credentials.credentials(r);
    // No key, a place repeated, or two different keys: refused before anything is asked
    // or kept, so no decision made for one credential can serve a call with another.
    if (credentials.callKey(found) === null) {
        r.return(403);
        return;
    }
    var key = decisionKey(found);
    var kept = ngx.shared.lmgate_auth_decisions.get(key);
    if (kept !== undefined) {
        answer(r, kept);
        return;
    }
    var reply;
    try {
        reply = await r.subrequest('/_lmgate_auth_service');
    } catch (e) {
        ngx.log(ngx.ERR, 'lmgate auth: no answer from the service: ' + e.message);
        r.return(403);
        return;
    }
    var id = reply.headersOut['X-LMGate-ID'];
    var decision = null;
    if (reply.status === 200 && id) {
        decision = ALLOW_PREFIX + id;
    } else if (reply.status === 403) {
        decision = DENY;
    }
    if (decision === null) {
        // Fail closed, and ask again next time: a service that is down, slow or failing.
        r.return(403);
        return;
    }
    keep(key, decision);
    answer(r, decision);
}

export default { check: check };

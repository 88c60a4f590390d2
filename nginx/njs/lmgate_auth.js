// Auth decisions for the provider locations (njs 0.8).
//
// kept  (js_set, read once in the provider location's rewrite phase, provider-auth.conf):
//       the decision kept in the lmgate_auth_decisions zone for exactly these credentials,
//       looked up in the call's own njs VM: "allow" (and $lmgate_id and
//       $lmgate_masked_key set from it), "deny", or "ask" when nothing is kept. A call
//       whose credentials are refused by the rule itself (no key, a place repeated, two
//       keys) is "deny" without asking. Only an "allow" lets the call skip auth_request.
// check (js_content of auth_request's location, for a call that found nothing kept): asks
//       the service (GET /auth through the /_lmgate_auth_service location) and keeps its
//       answer. The zone's own timeout (nginx.conf) is the decisions' lifetime. Only the
//       service's 200 and 403 are kept; anything else is a refusal that is not kept, so
//       the next call asks again.
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

// An allowing decision holds what the call's record needs from it: the allow-list id and
// the key's masked end, both as the service sent them (the masked end percent-encoded).
function allowing(id, maskedKey) {
    return ALLOW_PREFIX + JSON.stringify([id, maskedKey]);
}

// A kept decision as [id, masked key] (an allow), DENY, or null when it cannot be read (one
// kept by an earlier version of this file, whose zone outlives a reload): not kept, then.
function readDecision(decision) {
    if (decision === DENY) {
        return DENY;
    }
    if (decision === undefined || decision.indexOf(ALLOW_PREFIX) !== 0) {
        return null;
    }
    try {
        var allow = JSON.parse(decision.slice(ALLOW_PREFIX.length));
        return Array.isArray(allow) && allow.length === 2 && typeof allow[0] === 'string' && typeof allow[1] === 'string' ? allow : null;
    } catch (e) {
        return null;
    }
}

function kept(r) {
    var found = credentials.credentials(r);
    if (credentials.callKey(found) === null) {
        return DENY;
    }
    var decision = readDecision(ngx.shared.lmgate_auth_decisions.get(decisionKey(found)));
    if (decision === null) {
        return 'ask';
    }
    if (decision === DENY) {
        return DENY;
    }
    r.variables.lmgate_id = decision[0];
    r.variables.lmgate_masked_key = decision[1];
    return 'allow';
}

function answer(r, decision) {
    var allow = readDecision(decision);
    if (allow !== null && allow !== DENY) {
        r.headersOut['X-LMGate-ID'] = allow[0];
        r.headersOut['X-LMGate-Masked-Key'] = allow[1];
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
    var decision = ngx.shared.lmgate_auth_decisions.get(key);
    if (readDecision(decision) !== null) {
        // Kept by a call that asked while this one was on its way here.
        answer(r, decision);
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
    decision = null;
    if (reply.status === 200 && id) {
        decision = allowing(id, reply.headersOut['X-LMGate-Masked-Key'] || '');
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

export default { kept: kept, check: check };

// A faulty stand-in for nginx/njs/lmgate_auth.js, mounted over it by
// docker-compose.njs-fault.yaml (tests/isolated/gateway-faults.spec.ts): njs throws where
// the gateway decides on a call's key, to prove that a fault of the gateway itself is the
// spec's 500 JSON (§10) and never lets a call through.
//
// kept  throws when the call asks for it (x-njs-fault: kept); otherwise finds nothing kept.
// check always throws.

function kept(r) {
    if (r.headersIn['x-njs-fault'] === 'kept') {
        throw new Error('njs fault injected in the kept-decision lookup');
    }
    return 'ask';
}

function check() {
    throw new Error('njs fault injected in the auth check');
}

export default { kept: kept, check: check };

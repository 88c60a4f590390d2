// Stats capture and the record's fields for LMGate (njs 0.8; no for...of, no async in filters).
//
// capture  (js_body_filter): keeps the response's first HEAD_CAP bytes and its last
//          TAIL_CAP bytes (whole when it is no longer than both), passes every byte on
//          untouched and at once. Usage is at the start and the end of every provider's
//          reply (spec §5): what lies between is never needed, so what a call holds does
//          not grow with its reply: at most HEAD_CAP + TAIL_CAP bytes, plus the one chunk
//          that pushed the tail on until the next arrives.
// recordFields (js_set, read by the spool's access_log in the log phase, after the last
//          byte went to the client or it left): the kept body, the time to the first byte,
//          the masked key (from the auth decision) and the writing worker's sequence
//          number, as JSON members. nginx writes the line,
//          one write() per call, to the spool file the service reads (see nginx.conf): no
//          queue in nginx's memory, nothing for a stop or a crash of nginx to lose.

var HEAD_CAP = 64 * 1024;
var TAIL_CAP = 64 * 1024;

// njs gives each request its own VM, so this state belongs to one response.
var head = [];
var headBytes = 0;
// The bytes after the head, the oldest dropped once TAIL_CAP newer ones are kept.
var tail = [];
var tailBytes = 0;
// Bytes dropped between the head and the tail.
var skipped = 0;
// From the request's arrival to the provider's first body byte (time to first token).
var firstByteMs = null;

function keepTail(data) {
    if (data.length >= TAIL_CAP) {
        // A copy: a slice would keep the whole chunk alive.
        skipped += tailBytes + data.length - TAIL_CAP;
        tail = [Buffer.from(data.slice(data.length - TAIL_CAP))];
        tailBytes = TAIL_CAP;
        return;
    }
    tail.push(data);
    tailBytes += data.length;
    while (tailBytes - tail[0].length >= TAIL_CAP) {
        skipped += tail[0].length;
        tailBytes -= tail.shift().length;
    }
}

function capture(r, data, flags) {
    if (firstByteMs === null && data.length > 0) {
        firstByteMs = elapsedMs(r);
    }
    if (data.length > 0) {
        var room = HEAD_CAP - headBytes;
        if (room >= data.length) {
            head.push(data);
            headBytes += data.length;
        } else {
            if (room > 0) {
                head.push(Buffer.from(data.slice(0, room)));
                headBytes += room;
            }
            keepTail(room > 0 ? data.slice(room) : data);
        }
    }
    r.sendBuffer(data, flags);
}

// $request_time: seconds since nginx read the request's first bytes, to the millisecond.
function elapsedMs(r) {
    return Math.round((parseFloat(r.variables.request_time) || 0) * 1000);
}

function text(buffers) {
    return buffers.length === 0 ? '' : Buffer.concat(buffers).toString('utf8');
}

// The tail's last TAIL_CAP bytes (it may hold a little more until the next chunk).
function tailText() {
    var joined = Buffer.concat(tail);
    return joined.slice(Math.max(0, joined.length - TAIL_CAP)).toString('utf8');
}

// The call's key masked as the stats line shows it (spec §5): the service masks it
// (lmgate/src/keys.ts maskKey, the one definition) and sends it percent-encoded with its
// decision, which $lmgate_masked_key holds (lmgate_auth.js). The spool never holds a key.
function maskedKey(r) {
    return decodeURIComponent(r.variables.lmgate_masked_key || '');
}

// This worker's next record number (1, 2, …; the spool line's producer is $hostname/$pid).
// A worker writes its lines in this order, so the service finds a record that never
// reached the spool (a failed write) as a gap, and counts and logs it.
function sequence() {
    try {
        return ngx.shared.lmgate_sequences.incr('w' + process.pid, 1, 0);
    } catch (e) {
        ngx.log(ngx.ERR, 'lmgate stats: no sequence number for the record: ' + e.message);
        return 0;
    }
}

// For js_set, read by the spool's log_format: the record's members that njs knows or
// that need JSON escaping, as JSON members without the braces (the format writes the
// object around them with nginx's own variables, which need none). One call per record:
// a js_set call each cost more than the rest of the record.
function recordFields(r) {
    var truncated = skipped > 0;
    var fields = {
        seq: sequence(),
        first_byte_ms: firstByteMs,
        request_uri: r.variables.lmgate_logged_request_uri || '',
        lmgate_id: r.variables.lmgate_id || '',
        masked_key: '',
        body_truncated: truncated,
        body: '',
        body_tail: ''
    };
    try {
        fields.masked_key = maskedKey(r);
        fields.body = truncated ? text(head) : text(head.concat(tail));
        fields.body_tail = truncated ? tailText() : '';
    } catch (e) {
        // The line still says who called what: the service records it with null tokens.
        ngx.log(ngx.ERR, 'lmgate stats: record without its body: ' + e.message);
    }
    var json = JSON.stringify(fields);
    return json.slice(1, json.length - 1);
}

export default { capture: capture, recordFields: recordFields };

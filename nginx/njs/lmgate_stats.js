// Stats capture and delivery for LMGate (njs 0.8; no for...of, no async in filters).
//
// capture  (js_body_filter): keeps the response's first HEAD_CAP bytes and its last
//          TAIL_CAP bytes (whole when it is no longer than both), passes every byte on
//          untouched and at once. Usage is at the start and the end of every provider's
//          reply (spec §5): what lies between is never needed, so what a call holds does
//          not grow with its reply: at most HEAD_CAP + TAIL_CAP bytes, plus the one chunk
//          that pushed the tail on until the next arrives.
// enqueue  (js_set, read by an access_log in the log phase): after the response is done,
//          or the client left, puts one record in the shared dict. Returns "0" so the
//          access_log line itself is never written.
// deliver  (js_periodic): sends queued records in batches to the service's POST /stats
//          through nginx's loopback server, and deletes them once the service answered.
//          A record whose delivery failed stays queued; the service drops duplicates by
//          request_id, so a retry never doubles a line.

import credentials from 'lmgate_credentials.js';

var HEAD_CAP = 64 * 1024;
var TAIL_CAP = 64 * 1024;
var STATS_URL = 'http://127.0.0.1:8082/stats';
var BATCH_MAX_RECORDS = 5000;
var BATCH_MAX_CHARS = 8 * 1024 * 1024;
// No new batch after this; with js_fetch_timeout (half the interval) a run ends before
// the next js_periodic tick, which would cut it off. nginx/start.sh sets it from the
// interval ($lmgate_delivery_budget_ms); this is the value for the default 1 s.
var DELIVERY_BUDGET_MS = 300;

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

function enqueue(r) {
    try {
        var id = r.variables.lmgate_id;
        // No id: nginx answered itself (auth refused, unknown route); nothing was proxied.
        if (!id) {
            return '0';
        }
        var durationMs = elapsedMs(r);
        var found = credentials.credentials(r);
        var record = {
            request_id: r.variables.request_id,
            timestamp: Date.now() - durationMs,
            duration_ms: durationMs,
            first_byte_ms: firstByteMs,
            request_uri: r.variables.request_uri,
            status: parseInt(r.variables.status, 10) || 0,
            lmgate_id: id,
            upstream_host: r.variables.lmgate_upstream_host || '',
            authorization: credentials.single(found.authorization) || null,
            x_api_key: credentials.single(found.xApiKey) || null,
            x_goog_api_key: credentials.single(found.xGoogApiKey) || null,
            body: skipped === 0 ? text(head.concat(tail)) : text(head),
            body_tail: skipped === 0 ? null : tailText(),
            body_truncated: skipped > 0
        };
        try {
            ngx.shared.lmgate_records.set(record.request_id, JSON.stringify(record));
        } catch (e) {
            // Logged by the next delivery run, and reported to the service with its next
            // batch (lmgate_stats_records_dropped_total).
            ngx.shared.lmgate_counters.incr('dropped', 1, 0);
            ngx.shared.lmgate_counters.incr('dropped_unreported', 1, 0);
        }
    } catch (e) {
        ngx.log(ngx.ERR, 'lmgate stats: record not queued: ' + e.message);
    }
    return '0';
}

function reportDrops() {
    var counters = ngx.shared.lmgate_counters;
    var dropped = counters.get('dropped');
    if (dropped) {
        counters.incr('dropped', -dropped, 0);
        ngx.log(ngx.WARN, 'lmgate stats: ' + dropped + ' record(s) dropped: the lmgate_records zone was full');
    }
}

function nextBatch(records) {
    var keys = records.keys(BATCH_MAX_RECORDS);
    var batch = { keys: [], values: [] };
    var chars = 0;
    for (var i = 0; i < keys.length; i++) {
        var value = records.get(keys[i]);
        if (value === undefined) {
            continue;
        }
        if (batch.values.length > 0 && chars + value.length > BATCH_MAX_CHARS) {
            break;
        }
        batch.keys.push(keys[i]);
        batch.values.push(value);
        chars += value.length;
    }
    return batch;
}

async function deliver(s) {
    reportDrops();
    var records = ngx.shared.lmgate_records;
    var started = Date.now();
    var budget = Number(s.variables.lmgate_delivery_budget_ms) || DELIVERY_BUDGET_MS;
    while (Date.now() - started < budget) {
        var batch = nextBatch(records);
        if (batch.keys.length === 0) {
            return;
        }
        var reply;
        var headers = { 'Content-Type': 'application/json' };
        var unreported = ngx.shared.lmgate_counters.get('dropped_unreported') || 0;
        if (unreported > 0) {
            headers['X-LMGate-Dropped-Records'] = String(unreported);
        }
        try {
            reply = await ngx.fetch(STATS_URL, {
                method: 'POST',
                headers: headers,
                body: '[' + batch.values.join(',') + ']'
            });
        } catch (e) {
            ngx.log(ngx.WARN, 'lmgate stats: delivery failed, ' + batch.keys.length + ' record(s) kept for retry: ' + e.message);
            return;
        }
        if (reply.status >= 500) {
            ngx.log(ngx.WARN, 'lmgate stats: service answered ' + reply.status + ', ' + batch.keys.length + ' record(s) kept for retry');
            return;
        }
        if (unreported > 0) {
            ngx.shared.lmgate_counters.incr('dropped_unreported', -unreported, 0);
        }
        if (reply.status >= 400) {
            // The service rejected the batch as malformed: retrying cannot help.
            var reason = await reply.text();
            ngx.log(ngx.ERR, 'lmgate stats: service rejected ' + batch.keys.length + ' record(s) with ' + reply.status + ': ' + reason);
        }
        for (var i = 0; i < batch.keys.length; i++) {
            records.delete(batch.keys[i]);
        }
    }
}

export default { capture: capture, enqueue: enqueue, deliver: deliver };

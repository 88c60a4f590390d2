// Auth decision cache key for nginx.conf (njs 0.8).
import crypto from 'crypto';

// A digest of the two headers the service reads the key from: a cached decision is shared
// only by requests that carry the very same key headers, and no key is written to disk.
function cacheKey(r) {
    var authorization = r.headersIn['Authorization'] || '';
    var apiKey = r.headersIn['x-api-key'] || '';
    return crypto.createHash('sha256').update(authorization + '\n' + apiKey).digest('hex');
}

export default { cacheKey: cacheKey };

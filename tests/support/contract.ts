/**
 * What the suite holds the gateway to, written from the spec (../shared/lmgate-spec.md),
 * never read from the gateway's own configuration: a table shared by the tests and the
 * code could agree on a hole. Every spec imports these instead of writing them out.
 */

/** §3: the body of every refusal, whatever refused the call. */
export const FORBIDDEN = { error: { type: 'forbidden', message: 'API key not authorized' } } as const;
/** §3: a path that is no provider's prefix, with or without a key. */
export const NOT_FOUND_TYPE = 'not_found';
/** §10: a fault of the gateway itself, in the providers' error shape. */
export const INTERNAL_ERROR = { error: { type: 'internal_error', message: 'the gateway failed to handle the request' } } as const;

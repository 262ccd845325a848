/**
 * Errors of the inference server, each with the HTTP status the Open Inference Protocol (and Triton /
 * KServe practice) gives it. Routes throw them; one error handler (server.ts) answers {"error": msg}.
 */
export class ServeError extends Error {
  override name = 'ServeError';
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {},
    /** Triton's failure reason for nv_inference_request_failure: REJECTED (queue), BACKEND, OTHER. */
    readonly reason: 'REJECTED' | 'BACKEND' | 'OTHER' | 'CANCELED' = 'OTHER') {
    super(message);
  }
}

/** 400: the request itself is wrong (shape, datatype, body). */
export const badRequest = (msg: string) => new ServeError(400, msg);
/** 404: no such model or version. */
export const notFound = (msg: string) => new ServeError(404, msg);
/** 503: cannot serve now (not ready, no healthy worker, draining, queue-wait timeout). */
export const unavailable = (msg: string, retryAfterS = 1, reason: ServeError['reason'] = 'OTHER') =>
  new ServeError(503, msg, { 'retry-after': String(retryAfterS) }, reason);

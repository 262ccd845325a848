/**
 * An infer response read back: its id and the logits of each image, from the binary tensor data
 * extension (JSON header, then raw little-endian FP32) or a JSON tensor. Anything that does not
 * parse as a well-formed answer of the expected shape is reported as malformed, never guessed at.
 */
import type { HttpResult } from './http-client.js';

export interface DecodedResponse {
  id: string | undefined;
  /** [images × classes] row-major. */
  logits: Float32Array;
}

export class MalformedResponse extends Error {}

interface Header {
  id?: string;
  outputs?: { name: string; datatype: string; shape: number[]; data?: number[]; parameters?: { binary_data_size?: number } }[];
}

export function decodeInferResponse(r: HttpResult, images: number, classes: number): DecodedResponse {
  const hl = r.headers['inference-header-content-length'];
  const headerLength = hl === undefined ? r.body.length : Number(Array.isArray(hl) ? hl[0] : hl);
  if (!Number.isSafeInteger(headerLength) || headerLength < 0 || headerLength > r.body.length) throw new MalformedResponse(`bad Inference-Header-Content-Length ${hl}`);
  let h: Header;
  try {
    h = JSON.parse(r.body.subarray(0, headerLength).toString('utf8')) as Header;
  } catch {
    throw new MalformedResponse('the response header is not JSON');
  }
  const out = h.outputs?.[0];
  if (!out) throw new MalformedResponse('the response has no outputs');
  const want = images * classes;
  let logits: Float32Array;
  if (out.parameters?.binary_data_size !== undefined) {
    const size = out.parameters.binary_data_size;
    if (size !== want * 4 || headerLength + size > r.body.length) throw new MalformedResponse(`binary output of ${size} bytes, expected ${want * 4}`);
    logits = new Float32Array(want);
    Buffer.from(logits.buffer).set(r.body.subarray(headerLength, headerLength + size));
  } else {
    if (!Array.isArray(out.data) || out.data.length !== want) throw new MalformedResponse(`JSON output of ${out.data?.length} values, expected ${want}`);
    logits = Float32Array.from(out.data);
  }
  return { id: h.id, logits };
}

export function argmax(values: Float32Array, from: number, count: number): number {
  let best = 0;
  for (let j = 1; j < count; j++) if (values[from + j]! > values[from + best]!) best = j;
  return best;
}

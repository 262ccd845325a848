/**
 * POST …/infer (OIP, JSON or binary tensor data, classification extension) and POST …/classify
 * (a raw image body → top-k JSON, for curl). Bodies arrive as raw buffers (this plugin's own content
 * type parser, bounded by bodyLimit) so the binary extension and JSON share one path, and every
 * declared size is checked before anything is allocated (tensors.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { topK } from '../../data/labels.js';
import { badRequest, ServeError } from '../errors.js';
import { imagesToPixels } from '../images.js';
import type { ServedModel } from '../model.js';
import type { ServeState } from '../state.js';
import {
  type DecodedInput, type Params, type RequestOutput, type ResponseTensor, encodeInferResponse, parseInferBody,
} from '../tensors.js';

interface RouteParams { model: string; version?: string }

/** The request's pixels [n, 3, H, W] from its one input: FP32 pixels, or BYTES encoded images preprocessed as eval does. */
async function pixelsOf(m: ServedModel, input: DecodedInput): Promise<{ pixels: Float32Array; n: number }> {
  const [c, h, w] = m.imageDims as [number, number, number];
  if (input.datatype === 'FP32') {
    const s = input.shape;
    if (s.length !== 4 || s[1] !== c || s[2] !== h || s[3] !== w || s[0]! < 1) {
      throw badRequest(`input '${input.name}': shape [${s}] does not match the model input [-1, ${c}, ${h}, ${w}] (FP32 NCHW pixels in the model's range)`);
    }
    return { pixels: input.values, n: s[0]! };
  }
  const s = input.shape;
  if (!(s.length === 1 || (s.length === 2 && s[1] === 1)) || s[0]! < 1) {
    throw badRequest(`input '${input.name}': BYTES shape [${s}] must be [n] or [n, 1] (one encoded image per element)`);
  }
  const t = await imagesToPixels(input.elements, h, m.source.normalize, `input '${input.name}'`);
  return { pixels: t.data, n: s[0]! };
}

/** Which outputs to send, how (binary or JSON) and whether as top-k classification strings. */
function plannedOutputs(m: ServedModel, requested: RequestOutput[] | undefined, requestParams: Params | undefined, raw: boolean) {
  const defaultBinary = raw || requestParams?.binary_data_output === true;
  const wanted = requested ?? [{ name: m.pool.outputName }];
  return wanted.map((o) => {
    if (o.name !== m.pool.outputName) throw badRequest(`unknown output '${o.name}' (model '${m.name}' has output '${m.pool.outputName}')`);
    const k = o.parameters?.classification;
    if (k !== undefined && (!Number.isSafeInteger(k) || (k as number) < 1)) throw badRequest(`output '${o.name}': classification must be a positive integer`);
    const binary = typeof o.parameters?.binary_data === 'boolean' ? o.parameters.binary_data : defaultBinary;
    return { name: o.name, classification: k as number | undefined, binary };
  });
}

/** Triton's classification strings "<value>:<index>[:<label>]", top-k by raw value. */
function classificationStrings(logits: Float32Array, classes: number, n: number, k: number, labels: string[] | null): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const row = logits.subarray(i * classes, (i + 1) * classes);
    for (const p of topK(row, Math.min(k, classes), labels)) out.push(labels ? `${p.logit}:${p.index}:${p.label}` : `${p.logit}:${p.index}`);
  }
  return out;
}

export async function inferRoutes(app: FastifyInstance, o: { state: ServeState; bodyLimit: number }): Promise<void> {
  const { state } = o;
  // Every body is a buffer here, whatever its content type (Triton clients send binary without one).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: o.bodyLimit }, (_req, body, done) => done(null, body));

  /** Look the model up and refuse at once when it cannot serve (before the body is decoded). */
  const servable = (p: RouteParams): ServedModel => {
    if (state.draining) throw new ServeError(503, 'the server is shutting down', { 'retry-after': '1' });
    const m = state.lookup(p.model, p.version);
    if (m.state !== 'READY') throw new ServeError(503, `model '${m.name}' is not ready (${m.state.toLowerCase()})`, { 'retry-after': '1' });
    return m;
  };

  /** Time a request from receipt and record its outcome against the model, whatever happens. */
  const recorded = async <T>(m: ServedModel, started: number, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (e) {
      m.recordFailure(performance.now() - started, e instanceof ServeError ? e.reason : 'OTHER');
      throw e;
    }
  };

  const infer = async (req: FastifyRequest<{ Params: RouteParams }>, reply: FastifyReply) => {
    const started = performance.now();
    const m = servable(req.params);
    return recorded(m, started, async () => {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const [c, h, w] = m.imageDims as [number, number, number];
      const maxBatch = m.batching.max_batch_size;
      const headerLength = req.headers['inference-header-content-length'];
      const parsed = parseInferBody(body, Array.isArray(headerLength) ? headerLength[0] : headerLength,
        { maxElements: maxBatch * c * h * w, maxByteElements: maxBatch },
        // A raw binary body is the one input at batch 1: FP32 pixels when its size says so, else an encoded image.
        (bytes) => (bytes.length === c * h * w * 4
          ? { name: m.pool.inputName, datatype: 'FP32', shape: [1, c, h, w], values: new Float32Array(new Uint8Array(bytes).buffer) }
          : { name: 'image', datatype: 'BYTES', shape: [1], elements: [bytes] }));
      if (parsed.inputs.length !== 1) {
        throw badRequest(`model '${m.name}' takes exactly one input: '${m.pool.inputName}' FP32 [n, ${c}, ${h}, ${w}] or BYTES encoded images [n]; got ${parsed.inputs.length}`);
      }
      const input = parsed.inputs[0]!;
      if (input.datatype === 'FP32' && input.name !== m.pool.inputName) throw badRequest(`unknown input '${input.name}' (FP32 input of model '${m.name}' is '${m.pool.inputName}')`);
      const plan = plannedOutputs(m, parsed.request.outputs, parsed.request.parameters, parsed.raw);
      const { pixels, n } = await pixelsOf(m, input);
      const timeout = parsed.request.parameters?.timeout;
      const inputMs = performance.now() - started;
      const r = await m.infer(pixels, n, typeof timeout === 'number' ? timeout : undefined);
      const t1 = performance.now();
      const outputs: ResponseTensor[] = plan.map((p) => (p.classification
        ? { name: p.name, datatype: 'BYTES', shape: [n, Math.min(p.classification, r.classes)],
          strings: classificationStrings(r.logits, r.classes, n, p.classification, m.labels), binary: p.binary }
        : { name: p.name, datatype: 'FP32', shape: [n, r.classes], values: r.logits, binary: p.binary }));
      const id = parsed.request.id;
      const enc = encodeInferResponse({ model_name: m.name, model_version: m.version, ...(id !== undefined ? { id } : {}) }, outputs);
      const outputMs = performance.now() - t1;
      m.recordSuccess({ totalMs: performance.now() - started, queueMs: r.queueMs, computeMs: r.computeMs, inputMs, outputMs, images: n });
      if ('json' in enc) return reply.type('application/json').send(enc.json);
      return reply.type('application/octet-stream').header('inference-header-content-length', String(enc.headerLength)).send(enc.body);
    });
  };
  app.post('/v2/models/:model/infer', infer);
  app.post('/v2/models/:model/versions/:version/infer', infer);

  app.post<{ Params: RouteParams; Querystring: { top_k?: string } }>('/v2/models/:model/classify', async (req) => {
    const started = performance.now();
    const m = servable(req.params);
    return recorded(m, started, async () => {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (body.length === 0) throw badRequest('send the image (JPEG, PNG or WebP) as the request body, e.g. curl --data-binary @image.png');
      const k = req.query.top_k === undefined ? 5 : Number(req.query.top_k);
      if (!Number.isSafeInteger(k) || k < 1) throw badRequest(`top_k must be a positive integer, not '${req.query.top_k}'`);
      const t = await imagesToPixels([body], m.imageDims[1]!, m.source.normalize, 'the request body');
      const inputMs = performance.now() - started;
      const r = await m.infer(t.data, 1);
      const t1 = performance.now();
      const predictions = topK(r.logits, Math.min(k, r.classes), m.labels);
      m.recordSuccess({ totalMs: performance.now() - started, queueMs: r.queueMs, computeMs: r.computeMs, inputMs, outputMs: performance.now() - t1, images: 1 });
      return { model_name: m.name, model_version: m.version, predictions };
    });
  });
}

/**
 * What the load generator needs to know of the served model, read from the server itself (OIP model
 * metadata): input and output names, the image side, the number of classes. Its labels come from one
 * classification-extension request (Triton's "value:index:label" strings), so a labelled dataset whose
 * classes are named can be matched to the model's classes by name.
 */
import { UserError } from '../errors.js';
import type { HttpClient } from './http-client.js';

export interface ModelInfo {
  name: string;
  inputName: string;
  outputName: string;
  /** [3, H, W]. */
  imageDims: [number, number, number];
  classes: number;
}

interface Metadata {
  name?: string;
  inputs?: { name: string; datatype: string; shape: number[] }[];
  outputs?: { name: string; datatype: string; shape: number[] }[];
  error?: string;
}

export async function fetchModelInfo(client: HttpClient, model: string): Promise<ModelInfo> {
  const { status, json } = await client.getJson<Metadata>(`/v2/models/${encodeURIComponent(model)}`);
  if (status === 404 || status === 400) throw new UserError(`--model ${model}: ${json.error ?? `the server answered ${status}`}`);
  if (status !== 200) throw new UserError(`--model ${model}: model metadata answered ${status} (${json.error ?? 'no reason given'})`);
  const input = json.inputs?.[0];
  const output = json.outputs?.[0];
  const s = input?.shape ?? [];
  if (!input || !output || s.length !== 4 || s[1] !== 3 || !(s[2]! > 0) || !(s[3]! > 0)) {
    throw new UserError(`--model ${model}: not an image classifier with one input [batch, 3, H, W] (metadata: ${JSON.stringify(json.inputs)})`);
  }
  const classes = output.shape[output.shape.length - 1]!;
  if (!(classes > 0)) throw new UserError(`--model ${model}: its output shape [${output.shape}] has no class dimension`);
  return { name: json.name ?? model, inputName: input.name, outputName: output.name, imageDims: [3, s[2]!, s[3]!], classes };
}

/** The served model's label of each class index, from one classification request; null if the server gives none. */
export async function fetchModelLabels(client: HttpClient, info: ModelInfo): Promise<string[] | null> {
  const [c, h, w] = info.imageDims;
  const body = Buffer.from(JSON.stringify({
    inputs: [{ name: info.inputName, datatype: 'FP32', shape: [1, c, h, w], data: new Array(c * h * w).fill(0) }],
    outputs: [{ name: info.outputName, parameters: { classification: info.classes } }],
  }));
  const r = await client.send('POST', `/v2/models/${encodeURIComponent(info.name)}/infer`, body, { 'content-type': 'application/json' });
  if (r.status !== 200) return null;
  const strings = (JSON.parse(r.body.toString('utf8')) as { outputs?: { data?: unknown[] }[] }).outputs?.[0]?.data;
  if (!Array.isArray(strings)) return null;
  const labels: string[] = new Array(info.classes).fill('');
  for (const s of strings) {
    const m = /^[^:]*:(\d+):(.*)$/.exec(String(s));
    if (!m) return null;
    labels[Number(m[1])] = m[2]!;
  }
  return labels.every(Boolean) ? labels : null;
}

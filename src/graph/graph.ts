/**
 * A small mutable view of an ONNX graph: who produces and who consumes each tensor, which tensors are
 * constants, unique names, and node replacement in place. Rewrites (quantization, fp16, unpacking)
 * work on a Graph built over a *copy* of the model (see `cloneModel`), so the caller's model is never
 * changed and a failed rewrite leaves nothing half-done.
 */
import { DataType, onnx, type ModelProto, type NodeProto, type TensorProto } from '../formats/onnx.js';

export type { NodeProto, TensorProto };

/**
 * A copy of a model that can be rewritten freely: the graph, node list, node input/output arrays and
 * initializer list are new; tensor payloads are shared (rewrites replace tensors, never edit them).
 */
export function cloneModel(m: ModelProto): ModelProto {
  const g = m.graph!;
  return onnx.ModelProto.create({
    ...m,
    opsetImport: (m.opsetImport ?? []).map((o) => ({ ...o })),
    metadataProps: (m.metadataProps ?? []).map((p) => ({ ...p })),
    graph: {
      ...g,
      node: (g.node ?? []).map((n) => ({ ...n, input: [...(n.input ?? [])], output: [...(n.output ?? [])],
        attribute: [...(n.attribute ?? [])] })),
      initializer: [...(g.initializer ?? [])],
      input: [...(g.input ?? [])],
      output: [...(g.output ?? [])],
      valueInfo: [...(g.valueInfo ?? [])],
    },
  });
}

export class Graph {
  private producers = new Map<string, NodeProto>();
  private consumerMap = new Map<string, NodeProto[]>();
  private inits = new Map<string, TensorProto>();
  private names = new Set<string>();
  private counter = 0;
  private dirty = true;

  /** Wraps `model` and edits it in place: pass a `cloneModel` copy unless the model is yours. */
  constructor(readonly model: ModelProto) {
    this.model.graph!.node ??= [];
    this.model.graph!.initializer ??= [];
    for (const t of this.model.graph!.initializer) this.inits.set(t.name!, t);
  }

  get nodes(): NodeProto[] {
    return this.model.graph!.node!;
  }

  get inputNames(): string[] {
    const inits = this.inits;
    return (this.model.graph!.input ?? []).map((v) => v.name!).filter((n) => !inits.has(n));
  }

  get outputNames(): string[] {
    return (this.model.graph!.output ?? []).map((v) => v.name!);
  }

  private index(): void {
    if (!this.dirty) return;
    this.producers.clear();
    this.consumerMap.clear();
    for (const n of this.nodes) {
      for (const o of n.output ?? []) if (o) this.producers.set(o, n);
      for (const i of n.input ?? []) {
        if (!i) continue;
        let list = this.consumerMap.get(i);
        if (!list) this.consumerMap.set(i, (list = []));
        if (!list.includes(n)) list.push(n);
      }
    }
    this.dirty = false;
  }

  /** Call after editing node inputs/outputs directly. */
  touch(): void {
    this.dirty = true;
  }

  producer(tensor: string): NodeProto | undefined {
    this.index();
    return this.producers.get(tensor);
  }

  consumers(tensor: string): NodeProto[] {
    this.index();
    return this.consumerMap.get(tensor) ?? [];
  }

  isGraphOutput(tensor: string): boolean {
    return this.outputNames.includes(tensor);
  }

  initializer(name: string): TensorProto | undefined {
    return this.inits.get(name);
  }

  /**
   * The constant value of a tensor: an initializer that is not also a graph input (ONNX lets inputs
   * override initializers), the output of a `Constant` node with a tensor `value`, or an Identity of
   * either.
   */
  constant(name: string): TensorProto | undefined {
    const t = this.inits.get(name);
    if (t) return this.inputNames.includes(name) ? undefined : t;
    const p = this.producer(name);
    // PyTorch shares equal parameters through Identity nodes.
    if (p?.opType === 'Identity' && !p.domain && p.input?.[0]) {
      const v = this.constant(p.input[0]);
      return v && { ...v, name };
    }
    if (p?.opType === 'Constant' && !p.domain) {
      const v = (p.attribute ?? []).find((a) => a.name === 'value')?.t;
      if (v) return { ...v, name };
    }
    return undefined;
  }

  isConstant(name: string): boolean {
    return this.constant(name) !== undefined;
  }

  /** A tensor name not used anywhere in the graph yet. */
  uniqueName(base: string): string {
    if (this.names.size === 0) {
      for (const n of this.nodes) {
        if (n.name) this.names.add(n.name);
        for (const x of [...(n.input ?? []), ...(n.output ?? [])]) if (x) this.names.add(x);
      }
      for (const x of this.inits.keys()) this.names.add(x);
      for (const v of [...(this.model.graph!.input ?? []), ...(this.model.graph!.output ?? [])]) this.names.add(v.name!);
    }
    let n = base;
    while (this.names.has(n)) n = `${base}_${++this.counter}`;
    this.names.add(n);
    return n;
  }

  /** Add an initializer under a fresh name derived from `t.name`; returns the name. */
  addInitializer(t: TensorProto): string {
    const name = this.uniqueName(t.name!);
    const tt = { ...t, name };
    this.model.graph!.initializer!.push(tt);
    this.inits.set(name, tt);
    return name;
  }

  /** A new node (not yet inserted) with fresh output names. */
  makeNode(opType: string, inputs: string[], o: { name?: string; domain?: string; outputs?: number | string[];
    attribute?: NodeProto['attribute'] } = {}): NodeProto {
    const name = this.uniqueName(o.name ?? opType);
    const outputs = Array.isArray(o.outputs) ? o.outputs
      : Array.from({ length: o.outputs ?? 1 }, (_, i) => this.uniqueName(`${name}_out${i}`));
    if (o.domain) this.useDomain(o.domain);
    return { opType, name, input: inputs, output: outputs, domain: o.domain ?? '', attribute: o.attribute ?? [] };
  }

  /** Make sure the model imports an operator set for `domain` (contrib domains: version 1). */
  useDomain(domain: string, version = 1): void {
    const ops = (this.model.opsetImport ??= []);
    if (!ops.some((o) => (o.domain ?? '') === domain)) ops.push({ domain, version });
  }

  opsetVersion(domain = ''): number {
    const o = (this.model.opsetImport ?? []).find((x) => (x.domain ?? '') === domain || (domain === '' && x.domain === 'ai.onnx'));
    return Number(o?.version ?? 0);
  }

  /** Replace `node` by `replacement` (in order) at its position. */
  replace(node: NodeProto, replacement: NodeProto[]): void {
    const i = this.nodes.indexOf(node);
    if (i < 0) throw new Error(`internal: node ${node.name} is not in the graph`);
    this.nodes.splice(i, 1, ...replacement);
    this.dirty = true;
  }

  /** Insert nodes just before `node` (so that they come before it in topological order). */
  insertBefore(node: NodeProto, added: NodeProto[]): void {
    const i = this.nodes.indexOf(node);
    if (i < 0) throw new Error(`internal: node ${node.name} is not in the graph`);
    this.nodes.splice(i, 0, ...added);
    this.dirty = true;
  }

  remove(node: NodeProto): void {
    this.replace(node, []);
  }

  /** Point every consumer input (and graph output) reading `from` at `to`. */
  renameTensor(from: string, to: string, onlyFor?: (n: NodeProto) => boolean): void {
    for (const n of this.nodes) {
      if (onlyFor && !onlyFor(n)) continue;
      n.input = (n.input ?? []).map((x) => (x === from ? to : x));
    }
    this.dirty = true;
  }

  /** Drop initializers (and Constant nodes) that nothing reads any more. */
  removeUnused(): void {
    this.index();
    const used = new Set<string>(this.outputNames);
    for (const n of this.nodes) for (const i of n.input ?? []) if (i) used.add(i);
    const g = this.model.graph!;
    g.initializer = g.initializer!.filter((t) => used.has(t.name!) || this.inputNames.includes(t.name!));
    this.inits = new Map(g.initializer.map((t) => [t.name!, t]));
    g.node = this.nodes.filter((n) => n.opType !== 'Constant' || (n.output ?? []).some((o) => used.has(o)));
    this.dirty = true;
  }
}

/** Attribute value of a node, by name. */
export function attr(n: NodeProto, name: string): { i?: number; f?: number; ints?: number[]; s?: string; t?: TensorProto } | undefined {
  const a = (n.attribute ?? []).find((x) => x.name === name);
  if (!a) return undefined;
  return {
    i: a.i === undefined || a.i === null ? undefined : Number(a.i),
    f: a.f ?? undefined,
    ints: a.ints?.map(Number),
    s: a.s ? new TextDecoder().decode(a.s) : undefined,
    t: a.t ?? undefined,
  };
}

export function attrInt(n: NodeProto, name: string, fallback: number): number {
  return attr(n, name)?.i ?? fallback;
}

export function attrFloat(n: NodeProto, name: string, fallback: number): number {
  return attr(n, name)?.f ?? fallback;
}

/** Node label for messages: its name, or op type and first output. */
export function nodeLabel(n: NodeProto): string {
  return n.name ? `${n.name} (${n.opType})` : `${n.opType} -> ${n.output?.[0] ?? '?'}`;
}

export const isFloatTensor = (t: TensorProto | undefined): boolean => t?.dataType === DataType.FLOAT;

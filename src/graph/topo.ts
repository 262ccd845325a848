/**
 * Topological order. ONNX requires nodes sorted so that every input is produced before it is read;
 * rewrites that splice nodes in check (and if needed restore) that order before a model is written.
 */
import type { ModelProto, NodeProto } from '../formats/onnx.js';

function available(m: ModelProto): Set<string> {
  const g = m.graph!;
  const s = new Set<string>(['']);
  for (const v of g.input ?? []) s.add(v.name!);
  for (const t of g.initializer ?? []) s.add(t.name!);
  return s;
}

/** The first node that reads a tensor not produced before it, or null when the order is valid. */
export function firstOutOfOrder(m: ModelProto): { node: NodeProto; input: string } | null {
  const have = available(m);
  for (const n of m.graph!.node ?? []) {
    for (const i of n.input ?? []) if (!have.has(i)) return { node: n, input: i };
    for (const o of n.output ?? []) have.add(o);
  }
  return null;
}

/**
 * Sort nodes topologically (stable: nodes keep their relative order where the data allows).
 * Throws when a tensor is read that nothing produces, or on a cycle.
 */
export function topoSort(m: ModelProto): void {
  const nodes = m.graph!.node ?? [];
  if (!firstOutOfOrder(m)) return;
  const have = available(m);
  const done = new Array<boolean>(nodes.length).fill(false);
  const out: NodeProto[] = [];
  let progress = true;
  while (out.length < nodes.length && progress) {
    progress = false;
    for (let i = 0; i < nodes.length; i++) {
      if (done[i]) continue;
      const n = nodes[i]!;
      if ((n.input ?? []).every((x) => have.has(x))) {
        done[i] = true;
        out.push(n);
        for (const o of n.output ?? []) have.add(o);
        progress = true;
      }
    }
  }
  if (out.length < nodes.length) {
    const stuck = nodes.find((_, i) => !done[i])!;
    const missing = (stuck.input ?? []).find((x) => !have.has(x));
    throw new Error(`graph: node ${stuck.name ?? stuck.opType} reads '${missing}', which nothing produces (or a cycle)`);
  }
  m.graph!.node = out;
}

/**
 * flax.training.checkpoints.convert_pre_linen on flat '/'-joined names (spec §2.1): inside every
 * module, children named `<prefix>_<n>` are renumbered per prefix in natural-sort order, so the
 * pre-Linen `LayerNorm_0, MultiHeadDotProductAttention_1, LayerNorm_2, MlpBlock_3` become
 * `LayerNorm_0, MultiHeadDotProductAttention_0, LayerNorm_1, MlpBlock_0`. No-op on Linen trees.
 */
const MODULE_NUM = /^(.*)_\d+$/;

/** Natural sort: digit runs compare as numbers. */
function naturalCompare(a: string, b: string): number {
  const ta = a.split(/(\d+)/), tb = b.split(/(\d+)/);
  for (let i = 0; i < Math.min(ta.length, tb.length); i++) {
    const x = ta[i]!, y = tb[i]!;
    if (x === y) continue;
    const nx = Number(x), ny = Number(y);
    if (i % 2 === 1 && !Number.isNaN(nx) && !Number.isNaN(ny)) return nx - ny;
    return x < y ? -1 : 1;
  }
  return ta.length - tb.length;
}

interface Node { children: Map<string, Node>; leaf?: string }

export function convertPreLinen(names: Iterable<string>): Map<string, string> {
  const root: Node = { children: new Map() };
  for (const name of names) {
    let n = root;
    for (const part of name.split('/')) {
      let c = n.children.get(part);
      if (!c) n.children.set(part, (c = { children: new Map() }));
      n = c;
    }
    n.leaf = name;
  }
  const mapping = new Map<string, string>();
  const walk = (n: Node, prefix: string) => {
    if (n.leaf !== undefined) mapping.set(n.leaf, prefix);
    const counts = new Map<string, number>();
    for (const name of [...n.children.keys()].sort(naturalCompare)) {
      const m = MODULE_NUM.exec(name);
      let renamed = name;
      if (m) {
        const k = counts.get(m[1]!) ?? 0;
        renamed = `${m[1]}_${k}`;
        counts.set(m[1]!, k + 1);
      }
      walk(n.children.get(name)!, prefix ? `${prefix}/${renamed}` : renamed);
    }
  };
  walk(root, '');
  return mapping;
}

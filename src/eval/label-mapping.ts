/**
 * Dataset class index -> model output index. By default they are the same index (IDX labels, .npy
 * labels, ImageNet WordNet-id folders sorted). When both sides have names and every dataset class
 * names exactly one model class (exactly, or by its first comma-separated synonym, ignoring case),
 * the names decide: an image folder `Sneaker/ Bag/ …` then scores correctly whatever its sort order.
 */

export interface LabelMapping {
  how: 'index' | 'name';
  /** Model index of each dataset class (identity for 'index'). */
  toModel(datasetLabel: number): number;
}

const IDENTITY: LabelMapping = { how: 'index', toModel: (l) => l };

function keys(label: string): string[] {
  const full = label.trim().toLowerCase();
  const first = full.split(',')[0]!.trim();
  return first === full ? [full] : [full, first];
}

export function labelMapping(datasetClasses: readonly string[] | null, modelLabels: readonly string[] | null): LabelMapping {
  if (!datasetClasses || !modelLabels) return IDENTITY;
  const byKey = new Map<string, number[]>();
  modelLabels.forEach((l, i) => {
    for (const k of keys(l)) byKey.set(k, [...(byKey.get(k) ?? []), i]);
  });
  const map = new Int32Array(datasetClasses.length);
  for (const [d, name] of datasetClasses.entries()) {
    const hits = byKey.get(name.trim().toLowerCase());
    if (!hits || new Set(hits).size !== 1) return IDENTITY;
    map[d] = hits[0]!;
  }
  if (map.every((m, i) => m === i)) return IDENTITY;
  return { how: 'name', toModel: (l) => (l < map.length ? map[l]! : l) };
}

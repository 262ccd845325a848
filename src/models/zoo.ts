/**
 * The model zoo: every ViT and Mixer configuration of google-research/vision_transformer
 * (vit_jax/configs/models.py) plus the Mixer-S/32, S/16, L/32 and H/14 of the Mixer paper
 * (those four exist only in the paper and timm, not in the official repo: spec §1.3), and the hybrid
 * ResNet+ViT models (spec §1.2, src/models/resnet.ts).
 * Defaults: 224 px, 1000 classes, the repo's Flax numerics.
 */
import { FLAX_NUMERICS, type MixerConfig, type ModelConfig, type VitConfig } from './config.js';
import { UserError } from '../errors.js';

function vit(name: string, patch: number, hidden: number, mlp: number, heads: number, layers: number,
  classifier: 'token' | 'gap' = 'token'): VitConfig {
  return { family: 'vit', name, patch, hidden, mlp, heads, layers, classifier, representation: null,
    classes: 1000, resolution: 224, ...FLAX_NUMERICS };
}

/** Hybrid R+ViT (spec §1.2): a ViT config reading the feature map of a ResNet stem with `layers` units per stage. */
function hybrid(name: string, base: VitConfig, patch: number, layers: number[]): VitConfig {
  return { ...base, name, patch, resnet: { layers, width: 64 } };
}

function mixer(name: string, patch: number, hidden: number, blocks: number, tokensMlp: number,
  channelsMlp: number): MixerConfig {
  return { family: 'mixer', name, patch, hidden, blocks, tokensMlp, channelsMlp, classes: 1000,
    resolution: 224, ...FLAX_NUMERICS };
}

export interface ZooEntry {
  config: ModelConfig;
  /** Where the configuration is defined. */
  source: 'vit_jax' | 'mixer-paper';
}

export const ZOO: readonly ZooEntry[] = [
  ...[
    vit('ViT-Ti_16', 16, 192, 768, 3, 12),
    vit('ViT-S_16', 16, 384, 1536, 6, 12),
    vit('ViT-S_32', 32, 384, 1536, 6, 12),
    vit('ViT-B_16', 16, 768, 3072, 12, 12),
    vit('ViT-B_32', 32, 768, 3072, 12, 12),
    vit('ViT-B_8', 8, 768, 3072, 12, 12),
    vit('ViT-L_16', 16, 1024, 4096, 16, 24),
    vit('ViT-L_32', 32, 1024, 4096, 16, 24),
    vit('ViT-H_14', 14, 1280, 5120, 16, 32),
    vit('ViT-S_16-gap-norep', 16, 384, 1536, 6, 12, 'gap'),
    vit('ViT-B_16-gap-norep', 16, 768, 3072, 12, 12, 'gap'),
    vit('ViT-S_32-gap-norep', 32, 384, 1536, 6, 12, 'gap'),
    vit('ViT-B_32-gap-norep', 32, 768, 3072, 12, 12, 'gap'),
    // Root only: the stem downsamples 4× (not the 2× its config comment says), so 8×8 patches are /32.
    hybrid('R+ViT-Ti_16', vit('', 16, 192, 768, 3, 12), 8, []),
    hybrid('R50+ViT-B_16', vit('', 16, 768, 3072, 12, 12), 1, [3, 4, 9]),
    hybrid('R26+ViT-B_32', vit('', 32, 768, 3072, 12, 12), 1, [2, 2, 2, 2]),
    hybrid('R26+ViT-S_32', vit('', 16, 384, 1536, 6, 12), 1, [2, 2, 2, 2]),
    hybrid('R50+ViT-L_32', vit('', 16, 1024, 4096, 16, 24), 1, [3, 4, 6, 3]),
    mixer('Mixer-B_16', 16, 768, 12, 384, 3072),
    mixer('Mixer-B_32', 32, 768, 12, 384, 3072),
    mixer('Mixer-L_16', 16, 1024, 24, 512, 4096),
  ].map((config) => ({ config, source: 'vit_jax' as const })),
  ...[
    mixer('Mixer-S_32', 32, 512, 8, 256, 2048),
    mixer('Mixer-S_16', 16, 512, 8, 256, 2048),
    mixer('Mixer-L_32', 32, 1024, 24, 512, 4096),
    mixer('Mixer-H_14', 14, 1280, 32, 640, 5120),
  ].map((config) => ({ config, source: 'mixer-paper' as const })),
];

/** Normalise 'vit-b/16', 'ViT-B_16', 'vit_b16', 'r50-vit-b16' … to one key. */
function key(name: string): string {
  return name.toLowerCase().replace(/[\s/_+-]/g, '');
}

/** A fresh copy of a zoo configuration by name (case- and separator-insensitive: ViT-B/16 = vit_b_16). */
export function zooConfig(name: string): ModelConfig {
  const entry = ZOO.find((e) => key(e.config.name!) === key(name));
  if (!entry) {
    throw new UserError(`unknown model config '${name}' (see 'vitopt models' for the list)`);
  }
  return structuredClone(entry.config);
}

export function isZooName(name: string): boolean {
  return ZOO.some((e) => key(e.config.name!) === key(name));
}

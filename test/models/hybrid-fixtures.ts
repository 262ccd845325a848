/** Small hybrid R+ViT models for tests (random weights in the official layout; nothing downloaded). */
import type { VitConfig } from '../../src/models/config.js';
import type { ResnetConfig } from '../../src/models/resnet.js';

/** A tiny hybrid: narrow ResNet (GroupNorm needs multiples of 32 channels) + 2-layer ViT. */
export const tinyHybrid = (resnet: ResnetConfig, o: Partial<VitConfig> = {}): VitConfig => ({
  family: 'vit', resnet, patch: 1, hidden: 32, mlp: 64, heads: 4, layers: 2, classifier: 'token', representation: null,
  classes: 7, resolution: 32, gelu: 'tanh', layerNormEps: 1e-6, ...o,
});

/** The official R26 stage layout (2, 2, 2, 2), narrowed to width 32: a checkpoint the importer accepts. */
export const tinyR26 = (o: Partial<VitConfig> = {}): VitConfig => tinyHybrid({ layers: [2, 2, 2, 2], width: 32 }, { resolution: 64, ...o });

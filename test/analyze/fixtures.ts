/** Tiny configurations whose figures are computed by hand in the tests. Not a test file itself. */
import { FLAX_NUMERICS, type MixerConfig, type VitConfig } from '../../src/models/config.js';

/** P=4 at 8 px → 2×2 grid, N=4, T=5; D=16, M=64, H=2, one layer, 10 classes. */
export const TINY_VIT: VitConfig = {
  family: 'vit', name: 'tiny-vit', patch: 4, hidden: 16, mlp: 64, heads: 2, layers: 1, classifier: 'token',
  representation: null, classes: 10, resolution: 8, ...FLAX_NUMERICS,
};

/** P=4 at 8 px → S=4; C=8, D_S=6, D_C=16, one block, 10 classes. */
export const TINY_MIXER: MixerConfig = {
  family: 'mixer', name: 'tiny-mixer', patch: 4, hidden: 8, blocks: 1, tokensMlp: 6, channelsMlp: 16,
  classes: 10, resolution: 8, ...FLAX_NUMERICS,
};

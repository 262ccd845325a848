import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countParams } from '../../src/analyze/params.js';
import { zooConfig } from '../../src/models/zoo.js';

// vit_jax/models_test.py MODEL_SIZES (224 px, 1000 classes), spec §1.1 and §1.3.
const OFFICIAL: Record<string, number> = {
  'ViT-Ti_16': 5_717_416, 'ViT-S_16': 22_050_664, 'ViT-S_32': 22_878_952, 'ViT-B_16': 86_567_656,
  'ViT-B_32': 88_224_232, 'ViT-B_8': 86_576_872, 'ViT-L_16': 304_326_632, 'ViT-L_32': 306_535_400,
  'ViT-H_14': 632_045_800, 'ViT-S_16-gap-norep': 22_049_896, 'ViT-B_16-gap-norep': 86_566_120,
  'ViT-S_32-gap-norep': 22_878_184, 'ViT-B_32-gap-norep': 88_222_696,
  'Mixer-B_16': 59_880_472, 'Mixer-B_32': 60_293_428, 'Mixer-L_16': 208_196_168,
};

test('parameter counts equal vit_jax/models_test.py', () => {
  for (const [name, n] of Object.entries(OFFICIAL)) assert.equal(countParams(zooConfig(name)), n, name);
});

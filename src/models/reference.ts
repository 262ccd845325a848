/**
 * vitopt's own trained reference models (Fashion-MNIST), shipped as official-layout .npz checkpoints
 * under models/ with a model card each. Every command accepts them by name.
 */
import { packagePath } from '../util/paths.js';
import { FASHION_MNIST_CLASSES } from '../data/labels.js';

export interface ReferenceModel {
  name: string;
  checkpoint: string;
  card: string;
  labels: string[];
}

export const REFERENCE_MODELS: readonly ReferenceModel[] = ['fashion-vit', 'fashion-mixer'].map((name) => ({
  name,
  checkpoint: packagePath('models', `${name}.npz`),
  card: packagePath('models', `${name}.md`),
  labels: [...FASHION_MNIST_CLASSES],
}));

export function referenceModel(name: string): ReferenceModel | undefined {
  return REFERENCE_MODELS.find((m) => m.name === name.toLowerCase());
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FASHION_MNIST_CLASSES, defaultLabels, formatPredictions, imagenet1kLabels, indexLabels, labelsFor, labelsFromHfConfig,
  softmax, topIndices, topK, topKBatch,
} from '../../src/data/labels.js';

test('Fashion-MNIST names in label order', () => {
  assert.deepEqual(FASHION_MNIST_CLASSES, ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);
});

test('ImageNet-1k names: 1000, in the standard index order', () => {
  const l = imagenet1kLabels();
  assert.equal(l.length, 1000);
  assert.equal(l[0], 'tench, Tinca tinca');
  assert.equal(l[207], 'golden retriever');
  assert.equal(l[281], 'tabby, tabby cat');
  assert.equal(l[999], 'toilet tissue, toilet paper, bathroom tissue');
});

test('defaultLabels guesses only where the class count is unambiguous', () => {
  assert.equal(defaultLabels(1000)?.length, 1000);
  assert.equal(defaultLabels(10), null);
  assert.equal(defaultLabels(21843), null);
  assert.deepEqual(indexLabels(3), ['class_0', 'class_1', 'class_2']);
  assert.deepEqual(labelsFor(3, null, ['x', 'y'], ['a', 'b', 'c']), ['a', 'b', 'c']);
  assert.deepEqual(labelsFor(2, null), ['class_0', 'class_1']);
});

test('Hugging Face id2label', () => {
  assert.deepEqual(labelsFromHfConfig({ id2label: { 1: 'dog', 0: 'cat' } }, 'config.json'), ['cat', 'dog']);
  assert.equal(labelsFromHfConfig({}, 'config.json'), null);
  assert.throws(() => labelsFromHfConfig({ id2label: { 0: 'a', 5: 'b' } }, 'config.json'), /config.json: id2label key '5'/);
});

test('topK: order, ties, probabilities, names', () => {
  assert.deepEqual(topIndices([1, 5, 3, 5, 0], 3), [1, 3, 2]);
  assert.deepEqual(topIndices([1, 2], 5), [1, 0]);
  const p = softmax([0, Math.log(3)]);
  assert.ok(Math.abs(p[0]! - 0.25) < 1e-12 && Math.abs(p[1]! - 0.75) < 1e-12);
  const top = topK([0, Math.log(3), -100], 2, ['a', 'b', 'c']);
  assert.deepEqual(top.map((t) => [t.index, t.label]), [[1, 'b'], [0, 'a']]);
  assert.ok(Math.abs(top[0]!.probability - 0.75) < 1e-9);
  assert.equal(formatPredictions(top), 'b 75.0%, a 25.0%');
  assert.equal(topK([0, 1], 1)[0]!.label, 'class_1');
  const batch = topKBatch({ dims: [2, 3], data: new Float32Array([0, 1, 2, 9, 8, 7]) }, 1, null);
  assert.deepEqual(batch.map((r) => r[0]!.index), [2, 0]);
});

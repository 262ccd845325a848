import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel, DataType, encodeModel, GraphBuilder } from '../../src/formats/onnx.js';
import { cloneModel, Graph } from '../../src/graph/graph.js';
import { firstOutOfOrder, topoSort } from '../../src/graph/topo.js';
import { tensorInfo, withOutputs } from '../../src/graph/outputs.js';
import { feedsOutputDirectly } from '../../src/compress/quantize/layers.js';
import { logits, tiny } from './fixtures.js';

function small() {
  const g = new GraphBuilder();
  const w = g.weight('w', { dims: [4, 3], data: new Float32Array(12).fill(0.5) });
  const id = g.op('Identity', [w]);
  const mm = g.op('MatMul', ['x', id], {}, { name: 'mm' });
  const relu = g.op('Relu', [mm], {}, { name: 'relu' });
  const shape = g.op('Shape', [relu]);
  const add = g.op('Add', [relu, g.weight('b', { dims: [3], data: new Float32Array(3).fill(1) })], {}, { name: 'bias' });
  g.renameOutput(add, 'y');
  const m = buildModel(g, { name: 's', inputs: [{ name: 'x', shape: ['n', 4] }], outputs: [{ name: 'y', shape: ['n', 3] }] });
  return { m, mm, relu, shape, w, id };
}

test('graph index: producers, consumers, constants through Identity, unique names, output detection', () => {
  const { m, mm, relu, id } = small();
  const g = new Graph(cloneModel(m));
  assert.equal(g.producer(relu)!.name, 'relu');
  assert.deepEqual(g.consumers(relu).map((n) => n.opType).sort(), ['Add', 'Shape']);
  assert.ok(g.isConstant(id), 'an Identity of an initializer is a constant');
  assert.equal(g.constant(id)!.dims!.length, 2);
  assert.ok(!g.isConstant(mm));
  const n1 = g.uniqueName('relu'), n2 = g.uniqueName('relu');
  assert.notEqual(n1, 'relu');
  assert.notEqual(n1, n2);
  assert.deepEqual(g.inputNames, ['x']);
  assert.ok(feedsOutputDirectly(g, relu) === false, 'Relu output also feeds Shape');
  assert.ok(feedsOutputDirectly(g, g.producer('y')!.output![0]!));
});

test('topological order: detected and restored; replacing nodes keeps the caller model intact', () => {
  const { m } = small();
  const before = encodeModel(m);
  const c = cloneModel(m);
  c.graph!.node!.reverse();
  assert.ok(firstOutOfOrder(c));
  topoSort(c);
  assert.equal(firstOutOfOrder(c), null);
  const g = new Graph(c);
  const relu = g.nodes.find((n) => n.name === 'relu')!;
  g.replace(relu, [g.makeNode('Sigmoid', relu.input!, { outputs: relu.output! })]);
  g.removeUnused();
  assert.ok(g.nodes.some((n) => n.opType === 'Sigmoid'));
  assert.deepEqual(encodeModel(m), before);
  const bad = cloneModel(m);
  bad.graph!.node![1]!.input = ['nowhere', 'w'];
  assert.throws(() => topoSort(bad), /nothing produces/);
});

test('tensor types and shapes from ONNX Runtime; intermediate tensors as extra outputs', async () => {
  const { m, relu, shape } = small();
  const info = await tensorInfo(m);
  assert.equal(info.get(relu)!.elemType, DataType.FLOAT);
  assert.deepEqual(info.get(relu)!.shape, ['n', 3]);
  assert.equal(info.get(shape)!.elemType, DataType.INT64);
  const vit = tiny('vit', 'portable');
  const name = vit.graph!.node!.find((n) => n.opType === 'Softmax')!.output![0]!;
  const exposed = withOutputs(vit, [name]);
  assert.equal(exposed.graph!.output!.length, 2);
  assert.equal(vit.graph!.output!.length, 1, 'the original is untouched');
  const x = { dims: [1, 3, 16, 16], data: new Float32Array(768).fill(0.1) };
  assert.deepEqual(await logits(exposed, x), await logits(vit, x));
});

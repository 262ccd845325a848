/** The wire codec on its own: binary extension round trips, BYTES framing, and refusal before allocation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeInputs, encodeInferResponse, parseByteElements, encodeByteElements, splitBody, checkInferRequest } from '../../src/serve/tensors.js';
import { ServeError } from '../../src/serve/errors.js';
import { binaryBody } from './fixtures.js';

const limits = { maxElements: 1 << 20, maxByteElements: 64 };

test('BYTES elements: encode → parse is the identity; bad framing is a 400', () => {
  fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 8 }), (els) => {
    const parsed = parseByteElements(encodeByteElements(els), els.length, 'x');
    assert.deepEqual(parsed.map((p) => [...p]), els.map((e) => [...e]));
  }));
  const good = encodeByteElements([new Uint8Array([1, 2, 3])]);
  for (const [b, n] of [[good.subarray(0, 5), 1], [good, 2], [Buffer.concat([good, good]), 1], [Buffer.from([1, 0]), 1]] as const) {
    assert.throws(() => parseByteElements(b, n, 'x'), (e: ServeError) => e.status === 400);
  }
});

test('binary FP32 input is read little-endian at its offset, after a BYTES input', () => {
  fc.assert(fc.property(fc.float32Array({ minLength: 1, maxLength: 24, noNaN: true }), fc.uint8Array({ maxLength: 7 }), (values, extra) => {
    const bytes = encodeByteElements([extra]);
    const { body, headerLength } = binaryBody({ inputs: [
      { name: 'b', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: bytes.length } },
      { name: 'x', datatype: 'FP32', shape: [values.length], parameters: { binary_data_size: values.byteLength } },
    ] }, bytes, new Uint8Array(values.buffer));
    const { header, binary } = splitBody(body, String(headerLength));
    const [b, x] = decodeInputs(checkInferRequest(header), binary, limits);
    assert.deepEqual(b!.datatype === 'BYTES' && [...b!.elements[0]!], [...extra]);
    assert.deepEqual(x!.datatype === 'FP32' && [...x!.values], [...values]);
  }));
});

test('declared sizes are refused before allocation', () => {
  const huge = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1 << 30, 1 << 10], data: [] }] };
  assert.throws(() => decodeInputs(checkInferRequest(huge), Buffer.alloc(0), limits), /more than this model accepts/);
  const bytesHuge = { inputs: [{ name: 'x', datatype: 'BYTES', shape: [100000], data: [] }] };
  assert.throws(() => decodeInputs(checkInferRequest(bytesHuge), Buffer.alloc(0), limits), /more than this model accepts/);
  assert.throws(() => checkInferRequest({ inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3], data: [] }] }), /non-negative integers/);
  assert.throws(() => checkInferRequest({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1.5], data: [] }] }), /non-negative integers/);
  assert.throws(() => checkInferRequest({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1], parameters: { a: {} } }] }), /parameters/);
  assert.throws(() => splitBody(Buffer.from('{}'), '-1'), /non-negative integer/);
});

test('responses: JSON when nothing is binary; header + binary sections in output order otherwise', () => {
  const values = Float32Array.from([1.5, -2, 3.25]);
  const json = encodeInferResponse({ model_name: 'm', id: 'a' }, [{ name: 'logits', datatype: 'FP32', shape: [1, 3], values, binary: false }]);
  assert.deepEqual(json, { json: { model_name: 'm', id: 'a', outputs: [{ name: 'logits', datatype: 'FP32', shape: [1, 3], data: [1.5, -2, 3.25] }] } });
  const bin = encodeInferResponse({ model_name: 'm' }, [
    { name: 'c', datatype: 'BYTES', shape: [1, 1], strings: ['3.25:2:x'], binary: true },
    { name: 'logits', datatype: 'FP32', shape: [1, 3], values, binary: true },
  ]);
  assert.ok('body' in bin);
  const header = JSON.parse(bin.body.subarray(0, bin.headerLength).toString());
  assert.deepEqual(header.outputs.map((o: any) => o.parameters.binary_data_size), [12, 12]);
  const rest = bin.body.subarray(bin.headerLength);
  assert.equal(rest.readUInt32LE(0), 8);
  assert.equal(rest.subarray(4, 12).toString(), '3.25:2:x');
  assert.deepEqual([...new Float32Array(new Uint8Array(rest.subarray(12)).buffer)], [1.5, -2, 3.25]);
});

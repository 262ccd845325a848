/**
 * A small model that uses what the ONNX schema gained after 1.10 (the schema `onnx-proto` had): IR 13,
 * device configurations and sharding, overloads, metadata_props on nodes, graphs, values, tensors and
 * functions, function attribute_proto and value_info, and the 8-, 4- and 2-bit tensor types. Built with
 * the vendored schema; the ONNX schema test round-trips it and the ONNX fuzz target mutates it.
 */
import { onnx, type ModelProto } from '../../src/formats/onnx.js';

const DT = onnx.TensorProto.DataType;
const meta = (key: string, value: string) => ({ key, value });

/** The fields marked with their number are newer than ONNX 1.10 (IR 8): a 1.10 reader skips them and its writer drops them. */
export function newerModel(): ModelProto {
  const tensor = (name: string, dataType: number, dims: number[], bytes: number[]) =>
    ({ name, dataType, dims, rawData: Uint8Array.from(bytes), metadataProps: [meta('origin', name)] }); // TensorProto.metadata_props (16)
  return onnx.ModelProto.create({
    irVersion: 13, // IR_VERSION_2025_11_06
    producerName: 'vitopt-test',
    opsetImport: [{ domain: '', version: 24 }, { domain: 'local', version: 1 }],
    configuration: [{ name: 'mesh', numDevices: 2, device: ['cuda:0', 'cuda:1'] }], // ModelProto.configuration (26)
    metadataProps: [meta('model', 'newer')],
    graph: {
      name: 'g',
      node: [{
        opType: 'Gelu', domain: 'local', overload: 'tanh', // NodeProto.overload (8)
        input: ['x'], output: ['y'], name: 'gelu0',
        metadataProps: [meta('source', 'block0')], // NodeProto.metadata_props (9)
        deviceConfigurations: [{ // NodeProto.device_configurations (10)
          configurationId: 'mesh', pipelineStage: 1,
          shardingSpec: [{
            tensorName: 'x', device: [0, 1],
            indexToDeviceGroupMap: [{ key: 0, value: [0, 1] }],
            shardedDim: [{ axis: 1, simpleSharding: [{ dimValue: 8, numShards: 2 }, { dimParam: 'n', numShards: 2 }] }],
          }],
        }],
      }],
      initializer: [
        tensor('f8', DT.FLOAT8E4M3FN, [2], [0x38, 0xb8]),
        tensor('f8b', DT.FLOAT8E5M2FNUZ, [1], [0x3c]),
        tensor('i4', DT.INT4, [4], [0x21, 0xf8]),
        tensor('u4', DT.UINT4, [3], [0x21, 0x0f]),
        tensor('f4', DT.FLOAT4E2M1, [2], [0x72]),
        tensor('e8m0', DT.FLOAT8E8M0, [1], [127]),
        tensor('i2', DT.INT2, [4], [0b11100100]),
      ],
      input: [{ name: 'x', type: { tensorType: { elemType: DT.FLOAT, shape: { dim: [{ dimParam: 'n' }, { dimValue: 8 }] } } },
        metadataProps: [meta('layout', 'NC')] }], // ValueInfoProto.metadata_props (4)
      output: [{ name: 'y', type: { tensorType: { elemType: DT.FLOAT } } }],
      metadataProps: [meta('graph', 'main')], // GraphProto.metadata_props (16)
    },
    functions: [{ // FunctionProto is IR 8, but these fields of it are not:
      name: 'Gelu', domain: 'local', overload: 'tanh', // FunctionProto.overload (13)
      input: ['x'], output: ['y'],
      attributeProto: [{ name: 'approximate', type: onnx.AttributeProto.AttributeType.STRING, // FunctionProto.attribute_proto (11)
        s: new TextEncoder().encode('tanh') }],
      node: [{ opType: 'Gelu', input: ['x'], output: ['y'],
        attribute: [{ name: 'approximate', refAttrName: 'approximate', type: onnx.AttributeProto.AttributeType.STRING }] }],
      opsetImport: [{ domain: '', version: 24 }],
      valueInfo: [{ name: 'y', type: { tensorType: { elemType: DT.FLOAT } } }], // FunctionProto.value_info (12)
      metadataProps: [meta('function', 'gelu')], // FunctionProto.metadata_props (14)
    }],
  });
}


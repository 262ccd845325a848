/**
 * The current ONNX schema (the vendored onnx.proto, see README.md beside it) as protobufjs message
 * classes shaped like pbjs static code — what `onnx-proto` exported, so callers did not change:
 * onnx.ModelProto.create/encode/decode/fromObject/toObject/verify, nested messages and enums as
 * properties (onnx.TensorProto.DataType.FLOAT), int64 fields decoded as Long.
 *
 * Built by reflection from the JSON descriptor rather than shipped as generated code: protobufjs
 * compiles each message's encoder and decoder on first use, the same code pbjs would have written,
 * so there is neither a 350 KB generated module nor a .proto parser at run time.
 */
import protobuf from 'protobufjs/light.js';
import { descriptor } from './descriptor.js';
import type { onnx as OnnxTypes } from './types.js';

type Exposed = Record<string, unknown>;

/**
 * The two prototype defaults where reflection differs from pbjs static code, set as static code has
 * them because callers test them: an absent bytes field reads as an empty Buffer (reflection: a frozen
 * plain array, which TextDecoder rejects), and an unset oneof member as null (reflection: 0 or '', so
 * `d.dimValue ? … : symbolic` would take a symbolic dimension for a fixed one of size 0).
 */
function staticDefaults(type: protobuf.Type): void {
  const proto = type.ctor.prototype as Exposed;
  for (const field of type.fieldsArray) {
    field.resolve(); // sets the reflection default first, so ours is not overwritten later
    if (field.partOf) proto[field.name] = null;
    else if (field.type === 'bytes' && !field.repeated) proto[field.name] = protobuf.util.newBuffer(0);
  }
}

/** Each nested message as its class (with its own nested messages and enums), each enum as an object. */
function expose(ns: protobuf.NamespaceBase, into: Exposed): void {
  for (const child of ns.nestedArray) {
    if (child instanceof protobuf.Enum) {
      // Both directions, as pbjs enums and TypeScript enums: DataType.FLOAT === 1, DataType[1] === 'FLOAT'.
      into[child.name] = Object.assign(Object.create(child.valuesById) as object, child.values);
    } else if (child instanceof protobuf.Type) {
      const ctor = child.ctor as unknown as Exposed;
      staticDefaults(child);
      const url = child.fullName.slice(1);
      ctor.getTypeUrl = (prefix = 'type.googleapis.com') => `${prefix}/${url}`;
      expose(child, ctor);
      into[child.name] = ctor;
    } else if (child instanceof protobuf.Namespace) {
      expose(child, (into[child.name] = {}) as Exposed);
    }
  }
}

const root = protobuf.Root.fromJSON(descriptor);
const exposed: Exposed = {};
expose(root, exposed);

/** The `onnx` package of onnx.proto. */
export const onnx = exposed.onnx as typeof OnnxTypes;

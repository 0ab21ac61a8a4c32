/**
 * Just enough ONNX for the vision bench, without a protobuf dependency (none is installed):
 * a protobuf wire-format reader and writer, a reader for the parts of an ONNX ModelProto that
 * counting multiply-adds needs (nodes, their attributes, initializer shapes, graph inputs and
 * outputs), a rewriter that makes every node output a graph output (so onnxruntime reports the
 * shape of every intermediate tensor), and a writer for a one-node MatMul model (the peak
 * reference). Field numbers are those of onnx/onnx.proto3.
 */

// ---- protobuf wire format ----------------------------------------------------------------

type WireValue = { wire: 0; value: bigint } | { wire: 1; value: Uint8Array } | { wire: 2; value: Uint8Array } | { wire: 5; value: Uint8Array };
export type ProtoField = { field: number } & WireValue;

/** The fields of one protobuf message, in order (repeated fields appear once per occurrence). */
export function readFields(bytes: Uint8Array): ProtoField[] {
  const out: ProtoField[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= bytes.length) throw new RangeError('protobuf: truncated varint');
      const b = bytes[pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new RangeError('protobuf: varint too long');
    }
  };
  const take = (n: number): Uint8Array => {
    if (pos + n > bytes.length) throw new RangeError('protobuf: truncated field');
    const slice = bytes.subarray(pos, pos + n);
    pos += n;
    return slice;
  };
  while (pos < bytes.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ field, wire, value: varint() });
    else if (wire === 1) out.push({ field, wire, value: take(8) });
    else if (wire === 2) out.push({ field, wire, value: take(Number(varint())) });
    else if (wire === 5) out.push({ field, wire, value: take(4) });
    else throw new RangeError(`protobuf: unsupported wire type ${wire} (field ${field})`);
  }
  return out;
}

/** A varint as a signed 64-bit integer (ONNX int64 fields), as a number. */
const int64 = (v: bigint): number => Number(BigInt.asIntN(64, v));
const text = new TextDecoder();
const utf8 = new TextEncoder();

/** A repeated int64 field: packed (one length-delimited run) or one varint per value. */
function int64s(fields: readonly ProtoField[], number: number): number[] {
  const out: number[] = [];
  for (const f of fields) {
    if (f.field !== number) continue;
    if (f.wire === 0) out.push(int64(f.value));
    else if (f.wire === 2) for (const inner of readPackedVarints(f.value)) out.push(int64(inner));
  }
  return out;
}

function readPackedVarints(bytes: Uint8Array): bigint[] {
  const out: bigint[] = [];
  let value = 0n;
  let shift = 0n;
  for (const b of bytes) {
    value |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) {
      out.push(value);
      value = 0n;
      shift = 0n;
    } else shift += 7n;
  }
  return out;
}

const strings = (fields: readonly ProtoField[], number: number): string[] =>
  fields.filter((f) => f.field === number && f.wire === 2).map((f) => text.decode(f.value as Uint8Array));
const messages = (fields: readonly ProtoField[], number: number): Uint8Array[] =>
  fields.filter((f) => f.field === number && f.wire === 2).map((f) => f.value as Uint8Array);
const firstString = (fields: readonly ProtoField[], number: number): string => strings(fields, number)[0] ?? '';

function varintBytes(value: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}

/** Protobuf encoders: each returns one encoded field. */
export const pb = {
  varint: (field: number, value: number | bigint): Uint8Array => Uint8Array.from([...varintBytes((field << 3) | 0), ...varintBytes(value)]),
  bytes: (field: number, value: Uint8Array): Uint8Array => concat([Uint8Array.from([...varintBytes((field << 3) | 2), ...varintBytes(value.length)]), value]),
  string: (field: number, value: string): Uint8Array => pb.bytes(field, utf8.encode(value)),
  message: (field: number, ...parts: Uint8Array[]): Uint8Array => pb.bytes(field, concat(parts)),
};

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ---- ONNX ------------------------------------------------------------------------------------

/** ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto field numbers. */
const MODEL = { irVersion: 1, graph: 7, opsetImport: 8 } as const;
const GRAPH = { node: 1, name: 2, initializer: 5, input: 11, output: 12, valueInfo: 13 } as const;
const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 } as const;
const ATTRIBUTE = { name: 1, i: 3, ints: 8 } as const;
const TENSOR = { dims: 1, dataType: 2, name: 8 } as const;
const VALUE_INFO = { name: 1, type: 2 } as const;
const FLOAT = 1;

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  /** Integer and integer-list attributes (group, strides, transA …); others are left out. */
  attributes: Record<string, number | number[]>;
}

export interface OnnxGraph {
  nodes: OnnxNode[];
  /** Shapes of the initializers (weights), by name. */
  initializers: Map<string, number[]>;
  /** Graph inputs that are not initializers, and the graph outputs. */
  inputs: string[];
  outputs: string[];
}

/** The nodes, weights' shapes, inputs and outputs of an ONNX model. */
export function readOnnxGraph(model: Uint8Array): OnnxGraph {
  const graph = messages(readFields(model), MODEL.graph)[0];
  if (!graph) throw new RangeError('onnx: the model has no graph');
  const g = readFields(graph);
  const initializers = new Map<string, number[]>();
  for (const t of messages(g, GRAPH.initializer)) {
    const f = readFields(t);
    initializers.set(firstString(f, TENSOR.name), int64s(f, TENSOR.dims));
  }
  const nodes = messages(g, GRAPH.node).map((bytes): OnnxNode => {
    const f = readFields(bytes);
    const attributes: OnnxNode['attributes'] = {};
    for (const a of messages(f, NODE.attribute)) {
      const af = readFields(a);
      const name = firstString(af, ATTRIBUTE.name);
      const ints = int64s(af, ATTRIBUTE.ints);
      const i = af.find((x) => x.field === ATTRIBUTE.i && x.wire === 0);
      if (ints.length > 0) attributes[name] = ints;
      else if (i) attributes[name] = int64(i.value as bigint);
    }
    return {
      name: firstString(f, NODE.name),
      opType: firstString(f, NODE.opType),
      domain: firstString(f, NODE.domain),
      inputs: strings(f, NODE.input),
      outputs: strings(f, NODE.output),
      attributes,
    };
  });
  const valueNames = (number: number) => messages(g, number).map((v) => firstString(readFields(v), VALUE_INFO.name));
  return { nodes, initializers, inputs: valueNames(GRAPH.input).filter((n) => !initializers.has(n)), outputs: valueNames(GRAPH.output) };
}

/**
 * The same model with `names` added as graph outputs (ValueInfoProto with a name only: onnxruntime
 * infers their type and shape), so one run reports every intermediate tensor's shape. The graph is
 * re-encoded at the end of the model; protobuf's "last one wins" is avoided by dropping the old one.
 */
export function withExtraOutputs(model: Uint8Array, names: readonly string[]): Uint8Array {
  const top = readFields(model);
  const graph = messages(top, MODEL.graph)[0];
  if (!graph) throw new RangeError('onnx: the model has no graph');
  const extra = names.map((name) => pb.message(GRAPH.output, pb.string(VALUE_INFO.name, name)));
  const rest = top.filter((f) => f.field !== MODEL.graph).map(encodeField);
  return concat([...rest, pb.message(MODEL.graph, graph, ...extra)]);
}

function encodeField(f: ProtoField): Uint8Array {
  if (f.wire === 0) return pb.varint(f.field, f.value);
  if (f.wire === 2) return pb.bytes(f.field, f.value);
  return concat([Uint8Array.from(varintBytes((f.field << 3) | f.wire)), f.value]);
}

/** A float32 tensor type: TypeProto { tensor_type { elem_type, shape { dim { dim_value } … } } }. */
function floatTensorType(shape: readonly number[]): Uint8Array {
  const dims = shape.map((d) => pb.message(1, pb.varint(1, d)));
  return pb.message(VALUE_INFO.type, pb.message(1, pb.varint(1, FLOAT), pb.message(2, ...dims)));
}

/** An ONNX model (IR 8, opset 13) of one MatMul: Y[m, n] = A[m, k] · B[k, n], float32. */
export function matMulModel(m: number, k: number, n: number): Uint8Array {
  const value = (name: string, shape: number[]) => [pb.string(VALUE_INFO.name, name), floatTensorType(shape)];
  const graph = pb.message(
    MODEL.graph,
    pb.message(GRAPH.node, pb.string(NODE.input, 'A'), pb.string(NODE.input, 'B'), pb.string(NODE.output, 'Y'), pb.string(NODE.name, 'matmul'), pb.string(NODE.opType, 'MatMul')),
    pb.string(GRAPH.name, 'peak-matmul'),
    pb.message(GRAPH.input, ...value('A', [m, k])),
    pb.message(GRAPH.input, ...value('B', [k, n])),
    pb.message(GRAPH.output, ...value('Y', [m, n])),
  );
  return concat([pb.varint(MODEL.irVersion, 8), pb.message(MODEL.opsetImport, pb.string(1, ''), pb.varint(2, 13)), graph]);
}

// ---- multiply-adds -----------------------------------------------------------------------------

export interface OpMacs {
  node: string;
  opType: string;
  /** Multiply-accumulates of this node for the whole batch the shapes come from. */
  macs: number;
  /** Output shape, weight shape (when the node has one). */
  output: number[];
  weight?: number[];
}

export interface MacCount {
  /** Multiply-adds per op that does them (Conv, ConvTranspose-free graphs only, Gemm, MatMul). */
  counted: OpMacs[];
  /** Op types with no multiply-adds counted here, with how many nodes each (elementwise, pooling, reshapes …). */
  notCounted: Record<string, number>;
  totalMacs: number;
}

/**
 * Multiply-adds of a graph from its nodes and the shapes of its tensors (`shapes`: every node
 * output and graph input, as onnxruntime reports them; initializers come from the graph).
 * Conv: N·M·Ho·Wo · (C/group)·kh·kw; MatMul: (batch dims and m, n of the output) · k; Gemm: M·N·K.
 * Everything else (BatchNorm, Relu, Softmax, ReduceL2, Add, Div …) costs a few operations per
 * element and is only listed, not counted.
 */
export function countMacs(graph: OnnxGraph, shapes: ReadonlyMap<string, readonly number[]>): MacCount {
  const shapeOf = (name: string): number[] => {
    const s = graph.initializers.get(name) ?? shapes.get(name);
    if (!s) throw new RangeError(`onnx: no shape for tensor "${name}"`);
    return [...s];
  };
  const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);
  const counted: OpMacs[] = [];
  const notCounted: Record<string, number> = {};
  for (const node of graph.nodes) {
    if (node.opType === 'Conv') {
      const output = shapeOf(node.outputs[0]!);
      const weight = shapeOf(node.inputs[1]!); // M × C/group × kh × kw
      counted.push({ node: node.name, opType: node.opType, macs: prod(output) * prod(weight.slice(1)), output, weight });
    } else if (node.opType === 'MatMul') {
      const output = shapeOf(node.outputs[0]!);
      const a = shapeOf(node.inputs[0]!);
      const k = a.at(-1)!;
      const weight = graph.initializers.get(node.inputs[1]!);
      counted.push({ node: node.name, opType: node.opType, macs: prod(output) * k, output, ...(weight ? { weight } : {}) });
    } else if (node.opType === 'Gemm') {
      const output = shapeOf(node.outputs[0]!);
      const a = shapeOf(node.inputs[0]!);
      const k = node.attributes.transA === 1 ? a[0]! : a[1]!;
      const weight = graph.initializers.get(node.inputs[1]!);
      counted.push({ node: node.name, opType: node.opType, macs: prod(output) * k, output, ...(weight ? { weight } : {}) });
    } else {
      notCounted[node.opType] = (notCounted[node.opType] ?? 0) + 1;
    }
  }
  return { counted, notCounted, totalMacs: counted.reduce((sum, op) => sum + op.macs, 0) };
}

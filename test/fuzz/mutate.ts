/**
 * Byte-level mutations of valid files (what a fuzzer does to seeds): bit flips, byte and word
 * overwrites with boundary values, truncation, deletion, insertion and duplication of ranges.
 */
import fc from 'fast-check';

/** 32- and 64-bit values that break size arithmetic: 0, ±1 around powers of two, 10^12, all ones. */
const U32 = [0, 1, 2, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 1e9];
const U64 = [0n, 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 10n ** 12n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n];

export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'u16' | 'u32'; at: number; value: number; le: boolean }
  | { kind: 'u64'; at: number; value: bigint; le: boolean }
  | { kind: 'truncate'; at: number }
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'duplicate'; at: number; len: number; to: number };

const pos = fc.nat({ max: 1 << 30 });

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('flip' as const), at: pos, bit: fc.integer({ min: 0, max: 7 }) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('set' as const), at: pos, value: fc.oneof(fc.constantFrom(0, 0xff, 0x7f, 0x80), fc.integer({ min: 0, max: 255 })) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constantFrom('u16' as const, 'u32' as const), at: pos, value: fc.oneof(fc.constantFrom(...U32), fc.nat()), le: fc.boolean() }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('u64' as const), at: pos, value: fc.constantFrom(...U64), le: fc.boolean() }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: pos }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('delete' as const), at: pos, len: fc.integer({ min: 1, max: 64 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('insert' as const), at: pos, bytes: fc.uint8Array({ minLength: 1, maxLength: 32 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('duplicate' as const), at: pos, len: fc.integer({ min: 1, max: 256 }), to: pos }), weight: 1 },
);

/** Applies mutations in order; positions wrap around the current length. */
export function mutate(seed: Uint8Array, ms: readonly Mutation[]): Uint8Array {
  let b = Uint8Array.from(seed);
  for (const m of ms) {
    const n = b.length;
    if (n === 0 && m.kind !== 'insert') continue;
    const at = n === 0 ? 0 : m.at % n;
    switch (m.kind) {
      case 'flip': b[at]! ^= 1 << m.bit; break;
      case 'set': b[at] = m.value; break;
      case 'u16': case 'u32': case 'u64': {
        const width = m.kind === 'u16' ? 2 : m.kind === 'u32' ? 4 : 8;
        if (n < width) break;
        const o = Math.min(at, n - width);
        const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
        if (m.kind === 'u16') dv.setUint16(o, m.value & 0xffff, m.le);
        else if (m.kind === 'u32') dv.setUint32(o, m.value >>> 0, m.le);
        else dv.setBigUint64(o, BigInt(m.value), m.le);
        break;
      }
      case 'truncate': b = b.slice(0, at); break;
      case 'delete': b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + m.len)]); break;
      case 'insert': {
        const out = new Uint8Array(n + m.bytes.length);
        out.set(b.subarray(0, at)); out.set(m.bytes, at); out.set(b.subarray(at), at + m.bytes.length);
        b = out;
        break;
      }
      case 'duplicate': {
        const piece = b.slice(at, at + m.len);
        const to = m.to % (n + 1);
        const out = new Uint8Array(n + piece.length);
        out.set(b.subarray(0, to)); out.set(piece, to); out.set(b.subarray(to), to + piece.length);
        b = out;
        break;
      }
    }
  }
  return b;
}

/** A seed chosen from `seeds`, with 1 to 4 mutations. */
export function mutatedArb(seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc.tuple(fc.nat({ max: seeds.length - 1 }), fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
    .map(([i, ms]) => mutate(seeds[i]!, ms));
}

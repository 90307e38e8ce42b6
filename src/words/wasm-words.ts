// Dword sums, comparisons and the synthetic payload's generator in WebAssembly. A JavaScript loop over an image
// runs unoptimised until V8 has compiled it, which a short-lived process (the
// CLI, a first simulate()) never gets past for long enough to pay back; a
// WebAssembly function is compiled before its first call and handles four
// dwords per instruction (SIMD). WebAssembly is little-endian like the
// microcode format, and its loads may be unaligned, so any blob at any offset
// is summed the same way. Where WebAssembly or its SIMD is missing (an old
// browser, a page whose content security policy forbids compiling it),
// `wasmWords()` is null and the callers keep their JavaScript loops.

// The module, in its text format:
//
// (module
//   (memory (export "mem") 1)                        ;; one 64 KiB page, never grown
//   (func (export "sum") (param $p i32) (param $n i32) (result i32)
//     (local $end i32) (local $vend i32) (local $s i32) (local $acc v128)
//     (local.set $vend (i32.add (local.get $p) (i32.and (local.get $n) (i32.const -16))))
//     (local.set $end (i32.add (local.get $p) (i32.and (local.get $n) (i32.const -4))))
//     (block (loop                                   ;; 16 bytes at a time, four lanes
//       (br_if 1 (i32.ge_u (local.get $p) (local.get $vend)))
//       (local.set $acc (i32x4.add (local.get $acc) (v128.load align=1 (local.get $p))))
//       (local.set $p (i32.add (local.get $p) (i32.const 16)))
//       (br 0)))
//     (local.set $s (i32.add (i32.add (i32x4.extract_lane 0 (local.get $acc))
//                                     (i32x4.extract_lane 1 (local.get $acc)))
//                            (i32.add (i32x4.extract_lane 2 (local.get $acc))
//                                     (i32x4.extract_lane 3 (local.get $acc)))))
//     (block (loop                                   ;; the last 0-3 dwords
//       (br_if 1 (i32.ge_u (local.get $p) (local.get $end)))
//       (local.set $s (i32.add (local.get $s) (i32.load align=1 (local.get $p))))
//       (local.set $p (i32.add (local.get $p) (i32.const 4)))
//       (br 0)))
//     (local.get $s))
//   (func (export "diff") (param $p i32) (param $q i32) (param $n i32) (result i32)
//     ;; the same two loops over two ranges: v128.or/i32.or of v128.xor/i32.xor
//     ...)
//   (func (export "fill") (param $p i32) (param $n i32) (param $x i32) (result i32)
//     (local $end i32)
//     (local.set $end (i32.add (local.get $p) (i32.and (local.get $n) (i32.const -4))))
//     (block (loop                                   ;; xorshift32, a dword at a time
//       (br_if 1 (i32.ge_u (local.get $p) (local.get $end)))
//       (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 13))))
//       (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 17))))
//       (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 5))))
//       (i32.store align=1 (local.get $p) (local.get $x))
//       (local.set $p (i32.add (local.get $p) (i32.const 4)))
//       (br 0)))
//     (local.get $x)))
//
// sum(p, n): the sum modulo 2^32 of the floor(n / 4) dwords at byte p, as an int32.
// diff(p, q, n): the OR of (dword at p) XOR (dword at q) over floor(n / 4) dwords.
// fill(p, n, x): floor(n / 4) dwords of the xorshift32 generator after state x at
// byte p; returns the state after them.

// Locals of sum(): its parameters, then what it declares.
const P = 0;
const N = 1;
const END = 2;
const VEND = 3;
const S = 4;
const ACC = 5;
// Locals of diff().
const DP = 0;
const DQ = 1;
const DN = 2;
const DVEND = 3;
const DEND = 4;
const D = 5;
const DACC = 6;
// Locals of fill().
const FP = 0;
const FN = 1;
const FX = 2;
const FEND = 3;

const I32 = 0x7f;
const V128 = 0x7b;
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const I32_CONST = 0x41;
const I32_ADD = 0x6a;
const I32_AND = 0x71;
const I32_OR = 0x72;
const I32_XOR = 0x73;
const I32_SHL = 0x74;
const I32_SHR_U = 0x76;
const I32_STORE = 0x36;
const I32_GE_U = 0x4f;
const I32_LOAD = 0x28;
const BLOCK = 0x02;
const LOOP = 0x03;
const EMPTY = 0x40;
const BR = 0x0c;
const BR_IF = 0x0d;
const END_OP = 0x0b;
const SIMD = 0xfd;
const V128_LOAD = [SIMD, 0x00, 0, 0]; // memarg: alignment 1 byte, offset 0
const I32X4_EXTRACT_LANE = 0x1b;
const I32X4_ADD = [SIMD, 0xae, 0x01];
const V128_OR = [SIMD, 0x50];
const V128_XOR = [SIMD, 0x51];
const I32_LOAD_ANY = [I32_LOAD, 0, 0];

const get = (local: number) => [LOCAL_GET, local];
const set = (local: number) => [LOCAL_SET, local];
const lane = (local: number, i: number) => [LOCAL_GET, local, SIMD, I32X4_EXTRACT_LANE, i];
/** local += step */
const advance = (local: number, step: number) => [...get(local), I32_CONST, step, I32_ADD, ...set(local)];
/** to = from + (n & mask), mask -16 or -4 (one signed LEB128 byte each). */
const endOf = (to: number, from: number, n: number, mask: 0x70 | 0x7c) => [
  ...get(from),
  ...get(n),
  I32_CONST,
  mask,
  I32_AND,
  I32_ADD,
  ...set(to),
];
/** A loop that runs `body` while `local < bound`. */
const whileBelow = (local: number, bound: number, body: number[]) => [
  ...[BLOCK, EMPTY, LOOP, EMPTY],
  ...[...get(local), ...get(bound), I32_GE_U, BR_IF, 1],
  ...body,
  ...[BR, 0, END_OP, END_OP],
];

/**
 * The shape both sum() and diff() have: from `p`, n bytes in 16-byte steps (`vector`, into a
 * v128 accumulator), the accumulator's four lanes folded with `fold` into `result`, then the
 * last 0-3 dwords one at a time (`scalar`), and `result` returned.
 */
const twoLoops = (
  l: { p: number; n: number; vend: number; end: number; result: number; acc: number },
  vector: number[],
  fold: number,
  scalar: number[],
) => [
  ...[2, 3, I32, 1, V128], // locals: three i32, one v128 (all zero at entry)
  ...endOf(l.vend, l.p, l.n, 0x70),
  ...endOf(l.end, l.p, l.n, 0x7c),
  ...whileBelow(l.p, l.vend, vector),
  ...[...lane(l.acc, 0), ...lane(l.acc, 1), fold, ...lane(l.acc, 2), ...lane(l.acc, 3), fold, fold],
  ...set(l.result),
  ...whileBelow(l.p, l.end, scalar),
  ...[...get(l.result), END_OP],
];

const SUM = twoLoops(
  { p: P, n: N, vend: VEND, end: END, result: S, acc: ACC },
  [...get(ACC), ...get(P), ...V128_LOAD, ...I32X4_ADD, ...set(ACC), ...advance(P, 16)],
  I32_ADD,
  [...get(S), ...get(P), ...I32_LOAD_ANY, I32_ADD, ...set(S), ...advance(P, 4)],
);

const DIFF = twoLoops(
  { p: DP, n: DN, vend: DVEND, end: DEND, result: D, acc: DACC },
  [
    ...[
      ...get(DACC),
      ...get(DP),
      ...V128_LOAD,
      ...get(DQ),
      ...V128_LOAD,
      ...V128_XOR,
      ...V128_OR,
      ...set(DACC),
    ],
    ...advance(DP, 16),
    ...advance(DQ, 16),
  ],
  I32_OR,
  [
    ...[...get(D), ...get(DP), ...I32_LOAD_ANY, ...get(DQ), ...I32_LOAD_ANY, I32_XOR, I32_OR, ...set(D)],
    ...advance(DP, 4),
    ...advance(DQ, 4),
  ],
);

/** x ^= x op k */
const xorShifted = (op: number, k: number) => [...get(FX), ...get(FX), I32_CONST, k, op, I32_XOR, ...set(FX)];

const FILL = [
  ...[1, 1, I32], // locals: one i32
  ...endOf(FEND, FP, FN, 0x7c),
  ...whileBelow(FP, FEND, [
    ...xorShifted(I32_SHL, 13),
    ...xorShifted(I32_SHR_U, 17),
    ...xorShifted(I32_SHL, 5),
    ...[...get(FP), ...get(FX), I32_STORE, 0, 0],
    ...advance(FP, 4),
  ]),
  ...[...get(FX), END_OP],
];

/** An unsigned LEB128 number (section and body lengths). */
function leb(n: number): number[] {
  const out: number[] = [];
  do {
    const low = n & 0x7f;
    n >>>= 7;
    out.push(n === 0 ? low : low | 0x80);
  } while (n !== 0);
  return out;
}
const section = (id: number, bytes: number[]) => [id, ...leb(bytes.length), ...bytes];
const name = (text: string) => [text.length, ...Array.from(text, (c) => c.charCodeAt(0))];
const body = (code: number[]) => [...leb(code.length), ...code];

const MODULE = new Uint8Array([
  ...[0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0], // "\0asm", version 1
  ...section(1, [2, 0x60, 2, I32, I32, 1, I32, 0x60, 3, I32, I32, I32, 1, I32]), // two types
  ...section(3, [3, 0, 1, 1]), // sum of type 0, diff and fill of type 1
  ...section(5, [1, 0, 1]), // one memory of one page, no maximum
  ...section(7, [
    4,
    ...name('sum'),
    0,
    0,
    ...name('diff'),
    0,
    1,
    ...name('fill'),
    0,
    2,
    ...name('mem'),
    2,
    0,
  ]),
  ...section(10, [3, ...body(SUM), ...body(DIFF), ...body(FILL)]),
]);

/** Bytes the module's memory holds: what one call sums at most. */
export const WASM_BLOCK_BYTES = 65536;

export interface WasmWords {
  /** Sum modulo 2^32 (as an int32) of the floor(length / 4) dwords at byte `at` of `bytes`. */
  sum(at: number, length: number): number;
  /** OR of the XORs of the floor(length / 4) dword pairs at bytes `a` and `b` (0: equal). */
  diff(a: number, b: number, length: number): number;
  /** Write floor(length / 4) xorshift32 dwords after state `x` at byte `at`; the state after them. */
  fill(at: number, length: number, x: number): number;
  /** The module's memory: copy a block here, then sum or compare it. */
  readonly bytes: Uint8Array;
  readonly words: Uint32Array;
}

let words: WasmWords | null | undefined;

function instantiate(): WasmWords | null {
  try {
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(MODULE));
    const memory = exports.mem as WebAssembly.Memory;
    return {
      sum: exports.sum as WasmWords['sum'],
      diff: exports.diff as WasmWords['diff'],
      fill: exports.fill as WasmWords['fill'],
      bytes: new Uint8Array(memory.buffer, 0, WASM_BLOCK_BYTES),
      words: new Uint32Array(memory.buffer, 0, WASM_BLOCK_BYTES / 4),
    };
  } catch {
    return null;
  }
}

/** The module, made on first use (about 0.3 ms); null where WebAssembly SIMD cannot run. */
export function wasmWords(): WasmWords | null {
  if (words === undefined) words = typeof WebAssembly === 'object' ? instantiate() : null;
  return words;
}

/** Tests: run the JavaScript loops as where WebAssembly is missing (`false`), or again as found (`true`). */
export function useWasmWords(use: boolean): void {
  words = use ? undefined : null;
}

// Checksums in WebAssembly. A JavaScript loop over an image runs unoptimised
// until V8 has compiled it, which a short-lived process (the CLI, a first
// simulate()) never gets past for long enough to pay back; a WebAssembly
// function is compiled before its first call and adds four dwords per
// instruction (SIMD). WebAssembly is little-endian like the microcode format,
// and its loads may be unaligned, so any blob at any offset is summed the same
// way. Where WebAssembly or its SIMD is missing (an old browser, a page whose
// content security policy forbids compiling it), `wasmSummer()` is null and the
// callers keep their JavaScript loops.

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
//     (local.get $s)))
//
// sum(p, n) is the sum modulo 2^32 of the floor(n / 4) dwords at byte p, as an int32.

const P = 0;
const N = 1;
const END = 2;
const VEND = 3;
const S = 4;
const ACC = 5;

const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const I32_CONST = 0x41;
const I32_ADD = 0x6a;
const I32_AND = 0x71;
const I32_GE_U = 0x4f;
const I32_LOAD = 0x28;
const BLOCK = 0x02;
const LOOP = 0x03;
const EMPTY = 0x40;
const BR = 0x0c;
const BR_IF = 0x0d;
const END_OP = 0x0b;
const SIMD = 0xfd;
const V128_LOAD = 0x00;
const I32X4_EXTRACT_LANE = 0x1b;
const I32X4_ADD = [0xae, 0x01];

const lane = (i: number) => [LOCAL_GET, ACC, SIMD, I32X4_EXTRACT_LANE, i];

const CODE = [
  ...[2, 3, 0x7f, 1, 0x7b], // locals: three i32, one v128 (zero at entry)
  ...[LOCAL_GET, P, LOCAL_GET, N, I32_CONST, 0x70, I32_AND, I32_ADD, LOCAL_SET, VEND], // -16
  ...[LOCAL_GET, P, LOCAL_GET, N, I32_CONST, 0x7c, I32_AND, I32_ADD, LOCAL_SET, END], // -4
  ...[BLOCK, EMPTY, LOOP, EMPTY],
  ...[LOCAL_GET, P, LOCAL_GET, VEND, I32_GE_U, BR_IF, 1],
  ...[LOCAL_GET, ACC, LOCAL_GET, P, SIMD, V128_LOAD, 0, 0, SIMD, ...I32X4_ADD, LOCAL_SET, ACC],
  ...[LOCAL_GET, P, I32_CONST, 16, I32_ADD, LOCAL_SET, P],
  ...[BR, 0, END_OP, END_OP],
  ...lane(0),
  ...lane(1),
  I32_ADD,
  ...lane(2),
  ...lane(3),
  I32_ADD,
  I32_ADD,
  ...[LOCAL_SET, S],
  ...[BLOCK, EMPTY, LOOP, EMPTY],
  ...[LOCAL_GET, P, LOCAL_GET, END, I32_GE_U, BR_IF, 1],
  ...[LOCAL_GET, S, LOCAL_GET, P, I32_LOAD, 0, 0, I32_ADD, LOCAL_SET, S],
  ...[LOCAL_GET, P, I32_CONST, 4, I32_ADD, LOCAL_SET, P],
  ...[BR, 0, END_OP, END_OP],
  ...[LOCAL_GET, S, END_OP],
];

/** A section: its id, its length (all are under 128 bytes: one LEB128 byte) and its bytes. */
const section = (id: number, bytes: number[]) => [id, bytes.length, ...bytes];
const name = (text: string) => [text.length, ...Array.from(text, (c) => c.charCodeAt(0))];

const MODULE = new Uint8Array([
  ...[0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0], // "\0asm", version 1
  ...section(1, [1, 0x60, 2, 0x7f, 0x7f, 1, 0x7f]), // one type: (i32, i32) -> i32
  ...section(3, [1, 0]), // one function, of that type
  ...section(5, [1, 0, 1]), // one memory of one page, no maximum
  ...section(7, [2, ...name('sum'), 0, 0, ...name('mem'), 2, 0]), // exports
  ...section(10, [1, CODE.length, ...CODE]), // the function's body
]);

/** Bytes the module's memory holds: what one call sums at most. */
export const WASM_SUM_BLOCK_BYTES = 65536;

export interface WasmSummer {
  /** Sum modulo 2^32 (as an int32) of the floor(length / 4) dwords at byte `at` of `bytes`. */
  sum(at: number, length: number): number;
  /** The module's memory: copy a block here, then sum it. */
  readonly bytes: Uint8Array;
  readonly words: Uint32Array;
}

let summer: WasmSummer | null | undefined;

function instantiate(): WasmSummer | null {
  try {
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(MODULE));
    const memory = exports.mem as WebAssembly.Memory;
    return {
      sum: exports.sum as (at: number, length: number) => number,
      bytes: new Uint8Array(memory.buffer, 0, WASM_SUM_BLOCK_BYTES),
      words: new Uint32Array(memory.buffer, 0, WASM_SUM_BLOCK_BYTES / 4),
    };
  } catch {
    return null;
  }
}

/** The module, made on first use (about 0.3 ms); null where WebAssembly SIMD cannot run. */
export function wasmSummer(): WasmSummer | null {
  if (summer === undefined) summer = typeof WebAssembly === 'object' ? instantiate() : null;
  return summer;
}

/** Tests: run the JavaScript loops as where WebAssembly is missing (`false`), or again as found (`true`). */
export function useWasmSummer(use: boolean): void {
  summer = use ? undefined : null;
}

/** `0x` plus lower-case hex, zero-padded to `width` digits; for non-negative integers. */
export function hex(n: number | bigint, width = 0): string {
  return `0x${n.toString(16).padStart(width, '0')}`;
}

/** Small formatting helpers shared by the exporters (pure, no Node APIs). */

/** Nanoseconds as milliseconds with `decimals` decimals ("62.158"); "-" when not a number. */
export function ms(ns: number | null | undefined, decimals = 3): string {
  if (ns === null || ns === undefined || !Number.isFinite(ns)) return '-';
  return (ns / 1e6).toFixed(decimals);
}

/** Milliseconds as the summary, report and compare table print them: three decimals. */
export function ms3(ns: number | null | undefined): string {
  return ms(ns, 3);
}

/** A duration with a unit that fits it: "850 ns", "12.5 us", "62.158 ms", "20.006 s". */
export function duration(ns: number): string {
  if (!Number.isFinite(ns)) return '-';
  const a = Math.abs(ns);
  if (a < 1e3) return `${round(ns, 1)} ns`;
  if (a < 1e6) return `${round(ns / 1e3, 1)} us`;
  if (a < 1e9) return `${ms(ns)} ms`;
  return `${(ns / 1e9).toFixed(3)} s`;
}

function round(v: number, digits: number): string {
  const s = v.toFixed(digits);
  return s.endsWith('.0') ? s.slice(0, -2) : s;
}

/** 1670144 -> "1,670,144". Deterministic (no locale). */
export function grouped(n: number): string {
  const neg = n < 0;
  const s = String(Math.abs(Math.trunc(n)));
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (i > 0 && (s.length - i) % 3 === 0) out += ',';
    out += s[i];
  }
  return neg ? `-${out}` : out;
}

/** Bytes with a binary unit: "1.59 MiB". */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(2)} MiB`;
}

/** HTML text and attribute escaping (covers both contexts). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * JSON that is safe inside a `<script>` element: no `<` (so no `</script>` or
 * `<!--`), no `>` or `&`, and no U+2028/U+2029 line separators.
 */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** The header date 0xMMDDYYYY (BCD) as ISO "YYYY-MM-DD"; undefined unless it is a BCD date. */
export function decodeBcdDate(dword: number): string | undefined {
  const text = (dword >>> 0).toString(16).padStart(8, '0');
  if (!/^[0-9]{8}$/.test(text)) return undefined;
  const month = text.slice(0, 2);
  const day = text.slice(2, 4);
  const year = text.slice(4, 8);
  const monthNumber = Number(month);
  const dayNumber = Number(day);
  if (monthNumber < 1 || monthNumber > 12 || dayNumber < 1 || dayNumber > 31) return undefined;
  return `${year}-${month}-${day}`;
}

/** ISO "YYYY-MM-DD" to the header's BCD 0xMMDDYYYY; throws RangeError on anything else. */
export function encodeBcdDate(iso: string): number {
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(iso);
  if (!m) throw new RangeError(`not an ISO date (YYYY-MM-DD): ${iso}`);
  const dword = Number.parseInt(`${m[2]}${m[3]}${m[1]}`, 16) >>> 0;
  if (decodeBcdDate(dword) === undefined) throw new RangeError(`not a valid date: ${iso}`);
  return dword;
}

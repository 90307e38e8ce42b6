/** x86 Linux errno values the loader returns (negated in messages, e.g. "(-110)"). */
export const EIO = 5;
export const ENOENT = 2;
export const EBUSY = 16;
export const EINVAL = 22;
export const EBADR = 53;
export const EPROTO = 71;
export const EBADFD = 77;
export const EMSGSIZE = 90;
export const EOPNOTSUPP = 95;
export const EADDRNOTAVAIL = 99;
export const ETIMEDOUT = 110;

const NAMES: Record<number, string> = {
  [EIO]: 'EIO',
  [ENOENT]: 'ENOENT',
  [EBUSY]: 'EBUSY',
  [EINVAL]: 'EINVAL',
  [EBADR]: 'EBADR',
  [EPROTO]: 'EPROTO',
  [EBADFD]: 'EBADFD',
  [EMSGSIZE]: 'EMSGSIZE',
  [EOPNOTSUPP]: 'EOPNOTSUPP',
  [EADDRNOTAVAIL]: 'EADDRNOTAVAIL',
  [ETIMEDOUT]: 'ETIMEDOUT',
};

/** "-ETIMEDOUT" for -110; "0" for success. */
export function errnoName(code: number): string {
  if (code === 0) return '0';
  const name = NAMES[Math.abs(code)];
  return name ? `${code < 0 ? '-' : ''}${name}` : String(code);
}

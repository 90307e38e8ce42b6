import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The built library, as a user runs it: `npm test` builds dist/ first. UCODE_STAGING_DIST
 * points the tests at another build (`node scripts/build.mjs --outdir /tmp/x`).
 */
export const DIST = resolve(process.env.UCODE_STAGING_DIST ?? 'dist');
export const BUILT_MAIN = join(DIST, 'cli', 'main.cjs');

export function requireDist(): void {
  if (!existsSync(BUILT_MAIN))
    throw new Error(`${BUILT_MAIN} is missing: run \`npm run build\` (npm test does it first)`);
}

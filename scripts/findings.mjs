#!/usr/bin/env node
// `npm run findings`: docs/findings.md from the built library (dist/findings/), with the
// machine files its commands name (docs/findings/*.json) and the kept summary of its
// campaign (src/findings/campaign-data.ts). The same bytes on every run.
//
//   node scripts/findings.mjs [--dist DIR] [--keep-campaign]
//
// --dist DIR        the built library to use (default: dist/ beside this folder)
// --keep-campaign   use the campaign summary in src/findings/campaign-data.ts instead of
//                   running the 20,000-run campaign again (about a minute)
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const at = args.indexOf('--dist');
const dist = resolve(at >= 0 && args[at + 1] ? args[at + 1] : join(ROOT, 'dist'));
const keep = args.includes('--keep-campaign');

const lib = await import(pathToFileURL(join(dist, 'findings', 'index.js')).href);
const cache = await import(pathToFileURL(join(dist, 'findings', 'campaign-cache.js')).href);

function write(path, text) {
  const file = join(ROOT, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  console.error(`findings: wrote ${path} (${text.length} bytes)`);
}

const started = performance.now();
let summary = lib.CAMPAIGN_SUMMARY;
if (!keep) {
  let shown = -1;
  summary = lib.runWideCampaign(lib.CAMPAIGN_RUNS, lib.CAMPAIGN_SEED, (done, total) => {
    const pct = Math.floor((100 * done) / total);
    if (pct !== shown && pct % 10 === 0) {
      shown = pct;
      console.error(`findings: campaign ${done}/${total}`);
    }
  });
  write('src/findings/campaign-data.ts', cache.campaignDataModule(summary));
}
const out = lib.findingsDocument(summary);
for (const [path, text] of Object.entries(out.files)) write(path, text);
write('docs/findings.md', out.markdown);
console.error(
  `findings: ${out.simulations} simulations in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);

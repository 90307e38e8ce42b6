// docs/findings.md as a function of the model: pure library code (no Node API).
// `npm run findings` (scripts/findings.mjs) writes it; test/findings/ checks it.

export { CAMPAIGN_SUMMARY } from './campaign-data.js';
export { type FindingsOutput, findingsDocument } from './document.js';
export {
  BAD_CLASSES,
  CAMPAIGN_COMMAND,
  CAMPAIGN_RUNS,
  CAMPAIGN_SEED,
  type CampaignSummary,
  classify,
  classifyRun,
  recordedMask,
  runWideCampaign,
  WIDE_SPACE,
} from './f7-campaign.js';
export { Runner } from './runner.js';

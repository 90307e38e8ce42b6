import { toJson } from '../sim/json.js';
import { commandLine } from '../sim/run-args.js';
import type { Violation } from './invariants.js';
import {
  CAMPAIGN_TABLE_LEGEND,
  type CampaignReport,
  type FailingRun,
  formatCampaignTable,
  formatInvariantTally,
} from './run-campaign.js';
import { type CampaignSpace, replayArgs, replayMachineFile } from './space.js';

// A campaign's report as text and JSON. Where a failing run needs a machine
// file for its replay, the caller says where it put it (`machineFiles`, by run
// index): writing files is the caller's business.

/** The replay command of a failing run, or undefined when it needs a machine file nobody wrote. */
export function replayCommand(
  f: FailingRun,
  machineFiles?: ReadonlyMap<number, string>,
): string[] | undefined {
  const file = machineFiles?.get(f.index);
  if (replayMachineFile(f.run) !== undefined && file === undefined) return undefined;
  return ['ucode-staging', ...replayArgs(f.run, file)];
}

function describe(v: Violation): string {
  return `${v.invariant}: ${v.message}`;
}

/** The campaign's terminal report: table, invariant tally, rate, and up to ten failing runs. */
export function formatCampaignReport(
  report: CampaignReport,
  command: string,
  machineFiles?: ReadonlyMap<number, string>,
  failingPath?: string,
): string {
  const seconds = report.wallMs / 1000;
  const out = [
    `${command}`,
    '',
    formatCampaignTable(report),
    CAMPAIGN_TABLE_LEGEND,
    '',
    'invariants:',
    formatInvariantTally(report),
    `${report.runs} runs in ${seconds.toFixed(1)} s (${Math.round(report.runs / Math.max(seconds, 1e-9))} runs/s); ` +
      `${report.faultsInjected} mailbox faults injected, ${report.faultsFired} fired; ` +
      `${report.determinismChecks} runs run twice`,
  ];
  if (report.failingCount === 0) out.push('no invariant violated');
  else {
    out.push(`${report.failingCount} runs violated an invariant:`);
    for (const f of report.failing.slice(0, 10)) {
      out.push(
        `  run ${f.index} (seed ${f.seed}, ${f.fault}, ${f.policy}): ${f.violations.map(describe).join('; ')}`,
      );
      const cmd = replayCommand(f, machineFiles);
      out.push(cmd ? `    ${commandLine(cmd.slice(1))}` : '    (needs a machine file: give --failing FILE)');
    }
    if (report.failingCount > 10)
      out.push(`  ... ${report.failingCount - 10} more${failingPath ? ` in ${failingPath}` : ''}`);
  }
  return `${out.join('\n')}\n`;
}

/** The campaign as JSON (schema ucode-staging/campaign@2), each failing run with its replay. */
export function campaignJson(
  report: CampaignReport,
  space: CampaignSpace,
  command: string,
  machineFiles?: ReadonlyMap<number, string>,
): string {
  return toJson({
    ...report,
    command,
    space,
    failing: report.failing.map((f) => ({
      index: f.index,
      seed: f.seed,
      fault: f.fault,
      policy: f.policy,
      violations: f.violations,
      replay: replayCommand(f, machineFiles) ?? null,
      machineFile: replayMachineFile(f.run) ?? null,
    })),
  });
}

/** The failing-runs file: each run's violations and the exact command that replays it. */
export function failingRunsText(
  report: CampaignReport,
  command: string,
  machineFiles: ReadonlyMap<number, string>,
): string {
  const lines = [
    `# ${command}`,
    `# ${report.failingCount} of ${report.runs} runs violated an invariant${report.failing.length < report.failingCount ? ` (the first ${report.failing.length} are listed)` : ''}.`,
    '# Each command below replays its run exactly (the campaign runs with the trace off).',
    '',
  ];
  for (const f of report.failing) {
    lines.push(`# run ${f.index}: seed ${f.seed}, fault ${f.fault}, policy ${f.policy}`);
    for (const viol of f.violations) lines.push(`#   ${viol.invariant}: ${viol.message}`);
    lines.push(commandLine(replayArgs(f.run, machineFiles.get(f.index))), '');
  }
  return `${lines.join('\n')}\n`;
}

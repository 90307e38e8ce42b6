import { commandBlock } from './format.js';

/** One finding of docs/findings.md, rendered. */
export interface Finding {
  n: number;
  title: string;
  /** The headline figure in one line, for the summary table at the top. */
  headline: string;
  lines: string[];
}

/** The parts every finding has, in the order a reader wants them. */
export interface FindingParts {
  n: number;
  title: string;
  headline: string;
  /** The 6.19 function(s) it is about, and what they do, in Markdown. */
  code: string;
  /** The commands that show it. */
  reproduce: string[];
  /** What 6.19 does, measured: prose and tables. */
  measured: string[];
  /** The proposed change and the policy flag that models it. */
  proposal: string[];
  /** The same measurements with the change. */
  withProposal: string[];
  /** A paragraph that could be a patch's changelog evidence. */
  evidence: string[];
  /** Headings where the usual ones do not fit (a finding about the model rather than the kernel). */
  labels?: { measured?: string; proposal?: string; withProposal?: string; evidence?: string };
}

export function finding(p: FindingParts): Finding {
  const lines = [
    `## ${p.n}. ${p.title}`,
    '',
    `**In 6.19:** ${p.code}`,
    '',
    '**Reproduce:**',
    '',
    ...commandBlock(...p.reproduce),
    '',
    p.labels?.measured ? `**${p.labels.measured}:**` : '**Measured** (6.19, as merged):',
    '',
    ...p.measured,
    '',
    `**${p.labels?.proposal ?? 'Proposed change'}:**`,
    '',
    ...p.proposal,
    '',
    `**${p.labels?.withProposal ?? 'With the change'}:**`,
    '',
    ...p.withProposal,
    '',
    `**${p.labels?.evidence ?? 'Changelog evidence'}:**`,
    '',
    ...p.evidence.map((l) => (l === '' ? '>' : `> ${l}`)),
  ];
  return { n: p.n, title: p.title, headline: p.headline, lines };
}

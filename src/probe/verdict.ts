import { hex } from '../format/hex.js';
import { type HostFacts, INTEL } from './host-facts.js';
import type { Prediction } from './prediction.js';
import type { UpdateFacts } from './update.js';

export const VERDICT_KINDS = [
  'safe',
  'unsafe',
  'refused-minrev',
  'aborted',
  'no-update',
  'cannot-late-load',
  'not-applicable',
  'unknown',
] as const;
export type VerdictKind = (typeof VERDICT_KINDS)[number];

/** What `echo 1 > /sys/devices/system/cpu/microcode/reload` would do, in the kernel's terms. */
export interface Verdict {
  kind: VerdictKind;
  /** One line a person reads first. */
  summary: string;
  reasons: string[];
  /** What would make it work, or who updates the microcode instead. */
  advice: string | null;
  /** refused-minrev: the revision CPU 0 must run before the blob is accepted. */
  requiredRevision: number | null;
  /** What the reload write would return ('0', '-ENOENT', ...), null when there is no reload to write. */
  reloadReturns: string | null;
  /** Whether the load would taint the kernel (TAINT_CPU_OUT_OF_SPEC); null when nothing loads. */
  taints: boolean | null;
  /** True-but-worth-knowing facts that do not change the verdict. */
  caveats: string[];
}

/** A verdict with the fields a kind does not use left empty. */
export function verdict(kind: VerdictKind, summary: string, more: Partial<Verdict> = {}): Verdict {
  return {
    kind,
    summary,
    reasons: [],
    advice: null,
    requiredRevision: null,
    reloadReturns: null,
    taints: null,
    caveats: [],
    ...more,
  };
}

/** Who updates a CPU the model does not cover, or a guest's CPU. */
function notApplicable(facts: HostFacts): Verdict | null {
  const { vendor, hypervisor } = facts.identity;
  const what: string[] = [];
  const reasons: string[] = [];
  const advice: string[] = [];
  if (vendor === 'AuthenticAMD') {
    what.push('an AMD CPU');
    reasons.push("an AMD CPU: this model covers Intel's loader and its staging step only");
    advice.push(
      "AMD microcode comes with the BIOS/firmware (AGESA) or from linux-firmware's amd-ucode, loaded early by the kernel's AMD driver",
    );
  } else if (vendor !== null && vendor !== INTEL) {
    what.push(`a ${vendor} CPU`);
    reasons.push(`a ${vendor} CPU: this model covers Intel's loader only`);
    advice.push("the CPU vendor's firmware updates apply");
  }
  if (hypervisor === true) {
    what.push('a VM guest');
    reasons.push('the CPUID hypervisor bit is set: Linux disables its microcode loader in guests');
    advice.push(
      "the hypervisor's owner (the cloud provider or host administrator) updates microcode on the host",
    );
  }
  if (what.length === 0) return null;
  return verdict('not-applicable', `not applicable: ${what.join(', ')}`, {
    reasons,
    advice: advice.join('; '),
  });
}

function cannotLateLoad(facts: HostFacts): Verdict | null {
  const { loader, identity } = facts;
  const reasons: string[] = [];
  let advice =
    'load it early instead (install it in the initramfs, as the intel-microcode package does, and reboot), or run a kernel built with CONFIG_MICROCODE_LATE_LOADING=y';
  if (identity.family !== null && identity.family < 6)
    reasons.push(`Intel family ${identity.family}: the Intel loader supports family 6 and later`);
  if (loader.microcode === false)
    reasons.push('the kernel has no microcode loader (CONFIG_MICROCODE is not set)');
  else if (loader.lateLoading === 'compiled-out')
    reasons.push('late loading is compiled out (CONFIG_MICROCODE_LATE_LOADING is not set)');
  if (loader.disUcodeLdr.value) {
    reasons.push(`the loader is disabled (${loader.disUcodeLdr.source})`);
    advice = 'remove it from the command line and reboot';
  }
  if (reasons.length === 0 && loader.reloadFile === 'absent') {
    reasons.push('/sys/devices/system/cpu/microcode/reload does not exist: the loader offers no late load');
  }
  if (reasons.length === 0) return null;
  return verdict('cannot-late-load', `cannot late-load on this kernel: ${reasons[0]}`, { reasons, advice });
}

/** The verdict from the facts and the firmware, before the model run. */
export function judge(facts: HostFacts, update: UpdateFacts | null): Verdict {
  if (facts.identity.vendor === null)
    return verdict('unknown', 'unknown: the CPU vendor could not be read', {
      reasons: facts.identity.problems,
    });
  const na = notApplicable(facts);
  if (na) return na;
  const cannot = cannotLateLoad(facts);
  if (cannot) return cannot;
  if (update === null)
    return verdict('unknown', 'unknown: the CPU signature could not be read', {
      reasons: facts.identity.problems,
    });

  const caveats = [...lateLoadingCaveat(facts)];
  const blob = update.blob;
  switch (update.status) {
    case 'no-file':
    case 'no-match':
    case 'already-current':
      return verdict('no-update', `no update: ${update.reason}`, {
        reasons: [update.reason, ...update.file.problems],
        reloadReturns: '-ENOENT',
        caveats,
      });
    case 'rejected':
      return verdict('no-update', `no update: ${update.file.path} would be rejected`, {
        reasons: [update.reason, ...(update.rejection ? [`failed check: ${update.rejection}`] : [])],
        reloadReturns: '-EBADFD',
        advice: 'replace the file with an intact copy from the intel-microcode release',
        caveats,
      });
    case 'refused-minrev': {
      const min = update.refusedBlob!.minRequiredRevision;
      return verdict(
        'refused-minrev',
        `would be refused by the minimum-revision rule (force_minrev is on): reload returns -ENOENT`,
        {
          reasons: [update.reason, `force_minrev: ${facts.loader.forceMinrev.source}`],
          requiredRevision: min === 0 ? null : min,
          reloadReturns: '-ENOENT',
          advice:
            min === 0
              ? 'this blob can only be loaded early (initramfs and reboot)'
              : `CPU 0 must run ${hex(min)} or higher first: load this blob early (initramfs and reboot)`,
          caveats,
        },
      );
    }
    case 'new-unsafe':
      return verdict(
        'unsafe',
        `would load ${hex(update.currentRevision)} -> ${hex(blob!.revision)} as unsafe and taint the kernel`,
        {
          reasons: [update.reason],
          reloadReturns: '0',
          taints: true,
          advice:
            'prefer early loading (install it in the initramfs and reboot), which the minimum-revision rule does not restrict',
          caveats: [...caveats, ...belowMinimum(facts, blob!.minRequiredRevision)],
        },
      );
    case 'new-safe':
      return verdict('safe', `would load ${hex(update.currentRevision)} -> ${hex(blob!.revision)} safely`, {
        reasons: [update.reason],
        reloadReturns: '0',
        taints: false,
        caveats: [...caveats, ...belowMinimum(facts, blob!.minRequiredRevision)],
      });
  }
}

function lateLoadingCaveat(facts: HostFacts): string[] {
  const { loader } = facts;
  if (loader.lateLoading === 'unknown' && loader.reloadFile !== 'present')
    return [
      'whether late loading is built in is unknown (no kernel config, no reload file seen): assumed it is',
    ];
  return [];
}

/** Packages whose revision is below the blob's minimum: the kernel checks CPU 0 only. */
function belowMinimum(facts: HostFacts, min: number): string[] {
  if (min === 0) return [];
  const low = facts.topology.cpus.filter((c) => c.online && c.revision !== null && c.revision < min);
  if (low.length === 0) return [];
  const pkgs = [...new Set(low.map((c) => c.pkg))].filter((p) => p !== null).sort();
  return [
    `${low.length} CPU${low.length === 1 ? '' : 's'}${pkgs.length ? ` (package ${pkgs.join(', ')})` : ''} run below the blob's minimum ${hex(min)}; the kernel checks CPU 0 only`,
  ];
}

/** The verdict once the model has run: a load the kernel would abort (offline CPUs, a failure) says so. */
export function confirmWithModel(
  v: Verdict,
  prediction: Prediction | null,
  offlinePrimaries: number[],
): Verdict {
  if (prediction === null || (v.kind !== 'safe' && v.kind !== 'unsafe')) return v;
  const run = prediction.thisHost === 'with-staging' ? prediction.withStaging! : prediction.withoutStaging;
  if (run.outcome === 'updated') return v;
  if (offlinePrimaries.length > 0) {
    const list = offlinePrimaries.slice(0, 8).join(', ') + (offlinePrimaries.length > 8 ? ', ...' : '');
    return {
      ...v,
      kind: 'aborted',
      summary: `would be aborted: CPU ${list} offline (an offline SMT primary thread stops the load), reload returns ${run.returnCodeName}`,
      reasons: [
        `offline CPUs that are SMT primary threads: ${list}; only offline SMT siblings are allowed`,
        ...v.reasons,
      ],
      reloadReturns: run.returnCodeName,
      taints: false,
      advice: `bring them online first (echo 1 > /sys/devices/system/cpu/cpu${offlinePrimaries[0]}/online)`,
    };
  }
  return {
    ...v,
    kind: 'aborted',
    summary: `would not complete: the model's run ends ${run.outcome} (${run.returnCodeName})`,
    reasons: [
      `the model run on this host ends ${run.outcome}, reload returns ${run.returnCodeName}`,
      ...v.reasons,
    ],
    reloadReturns: run.returnCodeName,
  };
}

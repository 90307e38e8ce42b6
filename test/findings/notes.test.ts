import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LARGEST_PUBLIC_BLOB } from '../../src/findings/machines.js';
import { scanFile } from '../../src/format/index.js';
import { renderReport } from '../../src/output/html-report.js';
import { findingNotes, formatSummary } from '../../src/output/summary.js';
import { type SimulateOptions, simulate } from '../../src/sim/simulate.js';

// A run that shows a finding says so in its summary and its HTML report.

const small = (over: Record<string, unknown> = {}): SimulateOptions['machine'] => ({
  extends: 'gnr-2s',
  coresPerPackage: 4,
  ...over,
});

function run(opts: SimulateOptions) {
  return simulate({ syntheticImageBytes: 16 * 1024, trace: false, ...opts });
}

describe('finding notes', () => {
  it('interleaved numbering: the package is staged once per primary thread (finding 1)', () => {
    const r = run({ machine: small({ numbering: { packages: 'interleaved', smt: 'last' } }) });
    const notes = findingNotes(r);
    expect(notes[0]).toBe(
      "this machine's CPU numbering makes the kernel stage each package up to 4 times (8 passes for 2 packages); see docs/findings.md, finding 1",
    );
    expect(formatSummary(r)).toContain(`finding     ${notes[0]}`);
    const html = renderReport({ results: [r] });
    expect(html).toContain('data-testid="finding-note"');
    expect(html).toContain('stage each package up to 4 times');
    // Numbered by package, or with the proposed walk: nothing to say.
    expect(findingNotes(run({ machine: small() }))).toEqual([]);
    expect(
      findingNotes(
        run({
          machine: small({ numbering: { packages: 'interleaved', smt: 'last' } }),
          policy: { dedupe: 'distinct' },
        }),
      ),
    ).toEqual([]);
  });

  it('HZ 250 (finding 2), eight packages one after another (finding 3)', () => {
    const r = run({ machine: small({ packages: 8 }), cost: { hz: 250 } });
    const notes = findingNotes(r);
    expect(notes[0]).toMatch(
      /^at HZ 250 each of the 32 staging transactions took 8\.000 ms on average.*finding 2$/,
    );
    expect(notes[1]).toMatch(
      /^the 8 packages were staged one after another: .* 8\.0 times the first package.*finding 3$/,
    );
    expect(
      findingNotes(
        run({ machine: small({ packages: 8 }), cost: { hz: 250 }, policy: { stageOrder: 'parallel' } }),
      ),
    ).toHaveLength(1);
  });

  it('a dead mailbox (finding 4), a device that never lets do_stage() end (finding 5), the fallback panic (finding 6)', () => {
    const dead = run({ machine: small(), faults: [{ value: { kind: 'never-ready', atTransaction: 0 } }] });
    expect(findingNotes(dead)).toEqual([
      "package 0's mailbox kept the reload waiting 20.000 s (10,000 msleep(1) calls) before staging failed; see docs/findings.md, finding 4",
    ]);
    const endless = run({
      machine: small(),
      faults: [{ value: { kind: 'respond', atTransaction: 1, offset: 'len', sticky: true } }],
    });
    expect(findingNotes(endless)[0]).toContain('never leaves do_stage() and keeps the CPU hotplug lock');
    expect(renderReport({ results: [endless] })).toContain('finding 5');
    const unaligned = run({
      machine: small(),
      faults: [{ value: { kind: 'respond', atTransaction: 1, offset: 'len-2' } }],
    });
    expect(findingNotes(unaligned)[0]).toContain('unaligned offsets');
    const panic = run({
      machine: small(),
      faults: [{ value: { kind: 'error-status', atTransaction: 0 } }],
      cost: { applyUnstagedBaseNs: 1_200_000_000 },
    });
    expect(panic.outcome).toBe('panic');
    expect(findingNotes(panic)).toContain(
      'the unstaged WRMSR 0x79 of this 16,384-byte image outlasted the 1 s an SMT sibling waits for its primary; see docs/findings.md, finding 6',
    );
  });
});

describe("the document's figure for Intel's largest public blob", () => {
  const dir = process.env.UCODE_FIRMWARE_DIR;
  it.skipIf(!dir)('is the largest blob in the firmware folder (UCODE_FIRMWARE_DIR)', () => {
    let largest = 0;
    for (const name of readdirSync(dir!)) {
      const path = join(dir!, name);
      if (!statSync(path).isFile()) continue;
      for (const blob of scanFile(new Uint8Array(readFileSync(path))).blobs) {
        largest = Math.max(largest, blob.totalSize);
      }
    }
    expect(largest).toBe(LARGEST_PUBLIC_BLOB.bytes);
  });
});

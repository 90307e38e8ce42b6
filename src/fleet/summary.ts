import { PROBE_SCHEMA, type ProbeFiguresJson } from '../probe/probe-report.js';
import { VERDICT_KINDS, type VerdictKind } from '../probe/verdict.js';
import { numberIn, wholeNumber, z } from '../zod.js';

/** A revision or signature as every JSON of the project prints it: "0x10003a2". */
export type Hex = string;

/** One model run of a host, as `probe --json` prints it (prediction.withStaging / withoutStaging). */
export type FleetFigures = ProbeFiguresJson;

/**
 * Everything fleet knows about one host except its name: the verdict, the machine, the update,
 * the kernel, staging and the model's prediction. Hosts whose summaries are equal are one shape.
 * The same fields come from a `probe --json` report, a saved probe tree or an inventory row.
 */
export interface HostSummary {
  verdict: {
    kind: VerdictKind;
    summary: string;
    taints: boolean | null;
    reloadReturns: string | null;
  };
  vendor: string | null;
  /** The CPU model name (a probed host) or the machine's preset or file name (an inventory row). */
  model: string | null;
  signature: Hex | null;
  /** CPU 0's revision before the load. */
  revision: Hex | null;
  topology: {
    packages: number;
    coresPerPackage: number;
    threadsPerCore: number;
    cpus: number;
    online: number;
    numbering: string;
  } | null;
  kernel: { release: string | null; hz: number | null; hasStaging: boolean | null };
  /** The blob the kernel would load (or that force_minrev refuses): its revision and size. */
  update: { revision: Hex; imageBytes: number } | null;
  staging: { support: 'supported' | 'not-supported' | 'unknown'; kernelHasStaging: boolean | null };
  prediction: {
    /** The condition the figures hold under when the host would not load as it is. */
    hypothetical: string | null;
    thisHost: 'with-staging' | 'without-staging' | 'unknown';
    withStaging: FleetFigures | null;
    withoutStaging: FleetFigures;
    assumptions: string;
  } | null;
}

const hexString = z
  .string()
  .check(z.regex(/^0x[0-9a-f]{1,16}$/i, 'expected a hex string such as "0x10003a2"'));
const count = wholeNumber(0, 1e9);
const ns = numberIn(0, 1e18);
const text = z.string().check(z.maxLength(4096));

const figuresSchema = z.object({
  outcome: text,
  reloadReturns: text,
  stopWindowNs: z.nullable(ns),
  stagingNs: ns,
  reloadNs: ns,
  stagingPasses: count,
  stagingOk: z.boolean(),
});

const blobSchema = z.nullable(z.object({ revision: hexString, totalSize: count }));

/** The part of `probe --json` (ucode-staging/probe@1) fleet reads; other fields are ignored. */
const probeReportSchema = z.object({
  schema: z.literal(PROBE_SCHEMA, { error: `expected "${PROBE_SCHEMA}"` }),
  verdict: z.object({
    kind: z.enum(VERDICT_KINDS),
    summary: text,
    taints: z.nullable(z.boolean()),
    reloadReturns: z.nullable(text),
  }),
  host: z.object({
    vendor: z.nullable(text),
    modelName: z.nullable(text),
    signature: z.nullable(hexString),
    revisions: z.object({ cpu0: z.nullable(hexString) }),
    topology: z.object({
      packages: count,
      coresPerPackage: count,
      threadsPerCore: count,
      present: count,
      online: count,
      numbering: z.object({ packages: text, smt: text }),
    }),
    kernel: z.object({
      release: z.nullable(text),
      hasStaging: z.nullable(z.boolean()),
      hz: z.nullable(wholeNumber(0, 1e6)),
    }),
  }),
  update: z.nullable(z.object({ blob: blobSchema, refusedBlob: blobSchema })),
  staging: z.object({
    support: z.enum(['supported', 'not-supported', 'unknown']),
    kernelHasStaging: z.nullable(z.boolean()),
  }),
  prediction: z.nullable(
    z.object({
      hypothetical: z.nullable(text),
      thisHost: z.enum(['with-staging', 'without-staging', 'unknown']),
      assumptions: text,
      withStaging: z.nullable(figuresSchema),
      withoutStaging: figuresSchema,
    }),
  ),
});

type ProbeReportInput = z.infer<typeof probeReportSchema>;

/** Why a document is not a usable probe report: a message, and the line when it is known. */
export interface ReadProblem {
  line: number | null;
  message: string;
}

function lineAt(textIn: string, position: number): number {
  let line = 1;
  for (let i = 0; i < position && i < textIn.length; i++) if (textIn.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * Where JSON text first goes wrong (V8's messages give the position only for some errors):
 * a small scan of the grammar, run only after JSON.parse failed. -1 when it finds nothing.
 */
export function jsonErrorOffset(t: string): number {
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const ws = (): void => {
    while (i < t.length && (t[i] === ' ' || t[i] === '\t' || t[i] === '\n' || t[i] === '\r')) i++;
  };
  const str = (): void => {
    i++;
    for (;;) {
      if (i >= t.length) fail();
      const c = t.charCodeAt(i);
      if (c === 34) {
        i++;
        return;
      }
      if (c === 92) i += 2;
      else if (c < 32) fail();
      else i++;
    }
  };
  const num = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const value = (): void => {
    ws();
    const c = t[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      ws();
      if (t[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (c === '{') {
          ws();
          if (t[i] !== '"') fail();
          str();
          ws();
          if (t[i] !== ':') fail();
          i++;
        }
        value();
        ws();
        if (t[i] === ',') {
          i++;
          continue;
        }
        if (t[i] === close) {
          i++;
          return;
        }
        fail();
      }
    }
    if (c === '"') {
      str();
      return;
    }
    for (const word of ['true', 'false', 'null'])
      if (t.startsWith(word, i)) {
        i += word.length;
        return;
      }
    num.lastIndex = i;
    if (!num.test(t)) fail();
    i = num.lastIndex;
  };
  try {
    value();
    ws();
    return i < t.length ? i : -1;
  } catch (at) {
    return typeof at === 'number' ? Math.min(at, t.length) : -1;
  }
}

/** JSON.parse with the line of a syntax error. */
export function parseJsonText(textIn: string): { value: unknown } | ReadProblem {
  try {
    return { value: JSON.parse(textIn) as unknown };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const at = jsonErrorOffset(textIn);
    const line = at < 0 ? null : lineAt(textIn, at);
    const why = message
      .split('\n')[0]!
      .replace(/ in JSON at position \d+.*$/, '')
      .replace(/, ".*" is not valid JSON$/, '');
    return { line, message: `not valid JSON: ${why}` };
  }
}

function zodProblem(err: z.core.$ZodError): string {
  const issue = err.issues[0]!;
  const path = issue.path.map(String).join('.');
  return `${path === '' ? 'the document' : path}: ${issue.message}`;
}

/**
 * A probe report from one file's text: `probe --json` as written, or an Ansible ad-hoc result
 * (`ansible ... --tree DIR` writes the module's result, with the command's output in `stdout`).
 */
export function readProbeDocument(textIn: string): { summary: HostSummary } | ReadProblem {
  if (textIn.trim() === '') return { line: null, message: 'empty file (the host gave no output)' };
  const parsed = parseJsonText(textIn);
  if (!('value' in parsed)) return parsed;
  let doc = parsed.value;
  if (isObject(doc) && !('schema' in doc) && ('stdout' in doc || 'unreachable' in doc || 'msg' in doc)) {
    // An Ansible result: the probe's output is the command's stdout.
    if (typeof doc.stdout !== 'string' || doc.stdout.trim() === '') {
      const why = typeof doc.msg === 'string' ? doc.msg : 'no output';
      return {
        line: null,
        message: `an Ansible result without probe output${doc.unreachable === true ? ' (unreachable)' : ''}: ${oneLine(why)}`,
      };
    }
    const inner = parseJsonText(doc.stdout);
    if (!('value' in inner))
      return { line: null, message: `the Ansible result's stdout is ${inner.message}` };
    doc = inner.value;
  }
  const checked = probeReportSchema.safeParse(doc);
  if (!checked.success) {
    const kind = isObject(doc) && typeof doc.schema === 'string' ? ` (schema ${oneLine(doc.schema)})` : '';
    return { line: null, message: `not a probe report${kind}: ${zodProblem(checked.error)}` };
  }
  return { summary: summaryOfProbeReport(checked.data) };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function oneLine(s: string): string {
  const line = s.split('\n')[0]!;
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}

function figures(f: z.infer<typeof figuresSchema>): FleetFigures {
  return {
    outcome: f.outcome,
    reloadReturns: f.reloadReturns,
    stopWindowNs: f.stopWindowNs,
    stagingNs: f.stagingNs,
    reloadNs: f.reloadNs,
    stagingPasses: f.stagingPasses,
    stagingOk: f.stagingOk,
  };
}

/** The fields fleet uses, in a fixed order (the order makes equal hosts' keys equal). */
export function summaryOfProbeReport(r: ProbeReportInput): HostSummary {
  const t = r.host.topology;
  const blob = r.update?.blob ?? r.update?.refusedBlob ?? null;
  return {
    verdict: {
      kind: r.verdict.kind,
      summary: r.verdict.summary,
      taints: r.verdict.taints,
      reloadReturns: r.verdict.reloadReturns,
    },
    vendor: r.host.vendor,
    model: r.host.modelName,
    signature: r.host.signature?.toLowerCase() ?? null,
    revision: r.host.revisions.cpu0?.toLowerCase() ?? null,
    topology:
      t.present === 0
        ? null
        : {
            packages: t.packages,
            coresPerPackage: t.coresPerPackage,
            threadsPerCore: t.threadsPerCore,
            cpus: t.present,
            online: t.online,
            numbering: `${t.numbering.packages}/${t.numbering.smt}`,
          },
    kernel: { release: r.host.kernel.release, hz: r.host.kernel.hz, hasStaging: r.host.kernel.hasStaging },
    update: blob === null ? null : { revision: blob.revision.toLowerCase(), imageBytes: blob.totalSize },
    staging: { support: r.staging.support, kernelHasStaging: r.staging.kernelHasStaging },
    prediction:
      r.prediction === null
        ? null
        : {
            hypothetical: r.prediction.hypothetical,
            thisHost: r.prediction.thisHost,
            withStaging: r.prediction.withStaging === null ? null : figures(r.prediction.withStaging),
            withoutStaging: figures(r.prediction.withoutStaging),
            assumptions: r.prediction.assumptions,
          },
  };
}

/** A summary's identity: equal keys, one shape. */
export function summaryKey(s: HostSummary): string {
  return JSON.stringify(s);
}

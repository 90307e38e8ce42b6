import { INSPECT_SCHEMA } from '../format/inspect-report.js';
import { PROBE_SCHEMA } from '../probe/probe-report.js';
import { z } from '../zod.js';
import { CAMPAIGN_PART_SCHEMA, CAMPAIGN_SCHEMA, CampaignJson, CampaignPartJson } from './campaign.js';
import { COMPARE_SCHEMA, CompareJson } from './compare.js';
import { InspectJson } from './inspect.js';
import { ProbeJson } from './probe.js';
import { RESULT_SCHEMA, ResultJson } from './result.js';
import { jsonSchemaExtras, outputRegistry } from './wire.js';

// The JSON Schemas of the project's JSON outputs, made from zod schemas of the
// JSON as it is on the wire. `npm run schemas` writes them to schemas/ (shipped
// in the package); test/schemas checks them against real outputs and against
// what is committed. Pure: no Node API.

export {
  CAMPAIGN_PART_SCHEMA,
  CAMPAIGN_SCHEMA,
  CampaignJson,
  CampaignPartJson,
  CampaignSpaceJson,
} from './campaign.js';
export { COMPARE_SCHEMA, CompareJson } from './compare.js';
export { InspectJson } from './inspect.js';
export { MachineFileJson, NumericMachineFileJson } from './parts.js';
export { ProbeJson } from './probe.js';
export { RESULT_SCHEMA, ResultJson } from './result.js';
export { Hex } from './wire.js';

export interface OutputSchema {
  /** The file under schemas/: `<file>`. */
  file: string;
  /** The `schema` field of the documents: `ucode-staging/<name>@<version>`. */
  name: string;
  /** The JSON Schema's $id. */
  id: string;
  title: string;
  description: string;
  /** The zod schema of the document as it is on the wire. */
  zod: z.ZodMiniType;
}

/** The $id of a schema name: `ucode-staging/result@2` -> `urn:ucode-staging:result@2`. */
export function schemaId(name: string): string {
  return `urn:${name.replace('/', ':')}`;
}

function entry(
  file: string,
  name: string,
  title: string,
  description: string,
  zod: z.ZodMiniType,
): OutputSchema {
  return { file, name, id: schemaId(name), title, description, zod };
}

/** Every published schema, in the order docs/outputs.md lists them. */
export const OUTPUT_SCHEMAS: readonly OutputSchema[] = [
  entry(
    'result.schema.json',
    RESULT_SCHEMA,
    'ucode-staging simulation result',
    'One late load: `ucode-staging simulate --json FILE`, resultJson() (docs/result-schema.md). Revisions, signatures and addresses are hex strings; a time never reached is null.',
    ResultJson,
  ),
  entry(
    'compare.schema.json',
    COMPARE_SCHEMA,
    'ucode-staging comparison, staging off vs on',
    '`ucode-staging compare --json FILE`, compareJson(): each sweep point run with staging off and on.',
    CompareJson,
  ),
  entry(
    'campaign.schema.json',
    CAMPAIGN_SCHEMA,
    'ucode-staging fault campaign report',
    "`ucode-staging campaign --json FILE` and `campaign merge --json FILE`, campaignJson() (docs/reliability.md, docs/campaign-scale.md). A failing run's machine file has hex strings, as every JSON output.",
    CampaignJson,
  ),
  entry(
    'campaign-part.schema.json',
    CAMPAIGN_PART_SCHEMA,
    'ucode-staging fault campaign part (one shard)',
    '`ucode-staging campaign --shard K/N --json FILE`: the runs of one slice, counted, for `campaign merge` (docs/campaign-scale.md).',
    CampaignPartJson,
  ),
  entry(
    'inspect.schema.json',
    INSPECT_SCHEMA,
    'ucode-staging microcode file listing',
    '`ucode-staging inspect --json`: the blobs of Intel microcode files and the check that rejects a file (docs/format.md).',
    InspectJson,
  ),
  entry(
    'probe.schema.json',
    PROBE_SCHEMA,
    'ucode-staging host probe',
    '`ucode-staging probe --json`: what a late load would do on a host: facts, verdict and prediction (docs/probe.md).',
    ProbeJson,
  ),
];

/** The JSON Schema (draft 2020-12) of one output: $id, title and description first. */
export function jsonSchemaOf(s: OutputSchema): Record<string, unknown> {
  const generated = z.toJSONSchema(s.zod, {
    metadata: outputRegistry,
    io: 'input',
    target: 'draft-2020-12',
    override: ({ zodSchema, jsonSchema }) => {
      const extra = jsonSchemaExtras.get(zodSchema);
      if (extra) Object.assign(jsonSchema, extra);
    },
  });
  const { $schema, ...rest } = generated;
  return { $schema, $id: s.id, title: s.title, description: s.description, ...rest };
}

/** Each schema file's name and text, as `npm run schemas` writes them (2-space indent, final newline). */
export function jsonSchemaFiles(): { file: string; text: string }[] {
  return OUTPUT_SCHEMAS.map((s) => ({ file: s.file, text: `${JSON.stringify(jsonSchemaOf(s), null, 2)}\n` }));
}

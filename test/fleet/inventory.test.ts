import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  csvRecords,
  csvSegments,
  type InventoryRow,
  inventoryCsvRows,
  inventoryKernel,
  inventoryRow,
  type LineProblem,
  rowHostName,
} from '../../src/fleet/inventory.js';
import { FLEET_FIXTURES } from './helpers.js';

const isRow = (r: InventoryRow | LineProblem): r is InventoryRow => !('message' in r);

describe('inventory CSV', () => {
  it('reads quoted cells (commas, doubled quotes, line ends), CRLF, comments and blank lines, with the line each record starts on', () => {
    const text = '\uFEFFa,b\r\n# a comment\r\n\r\n"x, y","say ""hi"""\r\n"two\nlines",z\nlast,"q"\n';
    expect([...csvRecords(text)]).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 4, cells: ['x, y', 'say "hi"'] },
      { line: 5, cells: ['two\nlines', 'z'] },
      { line: 7, cells: ['last', 'q'] },
    ]);
  });

  it('an unterminated quote is a problem on the line it opened, and ends the file', () => {
    expect([...csvRecords('a,b\nok,1\n"open,2\nmore,3\n')]).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 2, cells: ['ok', '1'] },
      { line: 3, problem: 'a quoted cell is not closed (a missing ")' },
    ]);
  });

  it('the fixture inventory read in chunks of any size gives the rows of the whole text, lines included', () => {
    const text = readFileSync(join(FLEET_FIXTURES, 'inventory/fleet.csv'), 'utf8');
    const whole = [...inventoryCsvRows(text)];
    for (const size of [1, 2, 3, 7, 64, 1000]) {
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
      expect([...inventoryCsvRows(csvSegments(chunks))], `chunks of ${size}`).toEqual(whole);
    }
  });

  it('cuts chunks only at line ends outside quotes, however the text is split', () => {
    const text = 'host,machine\n"two\nlines",up\n"a ""b""\n",gnr-2s\nlast,up';
    const whole = [...inventoryCsvRows(text)];
    expect(whole.map((r) => ('host' in r ? r.host : r.line))).toEqual([2, 'a "b"', 'last']);
    for (let a = 1; a < text.length; a++)
      for (let b = a; b < text.length; b += 3)
        expect([
          ...inventoryCsvRows(csvSegments([text.slice(0, a), text.slice(a, b), text.slice(b)])),
        ]).toEqual(whole);
  });

  it('every bad row of the fixture is reported with its line and why; the good rows are read', () => {
    const rows = [...inventoryCsvRows(readFileSync(join(FLEET_FIXTURES, 'inventory/fleet.csv'), 'utf8'))];
    const problems = rows.filter((r): r is LineProblem => 'message' in r).map((p) => [p.line, p.message]);
    expect(problems).toEqual([
      [15, 'hz: expected one of 100, 250, 300, 1000, got "123"'],
      [16, 'count: expected a whole number from 1 to 10000000, got "0"'],
      [17, 'machine: missing (a preset name or a machine file)'],
      [19, 'kernel: expected a release such as 6.19 or 6.8.0-45-generic, got "latest"'],
      [20, 'revision: expected a hex revision such as 0x10003a2, got "xyz"'],
      [23, '10 cells, the header has 9'],
      [25, 'a quoted cell is not closed (a missing ")'],
    ]);
    const good = rows.filter(isRow);
    expect(good.map((r) => r.host)).toEqual([
      'web',
      'cache',
      'db',
      'edge-01',
      'old',
      'batch',
      'big',
      'current',
      'icx',
      'legacy',
      'offline-01',
      'planned',
      'typo',
      'no-firmware',
      'broken-machine',
      'quoted, name',
    ]);
    const edge = good.find((r) => r.host === 'edge-01')!;
    expect(edge).toMatchObject({
      count: 1,
      machine: 'srf-2s',
      hz: 1000,
      forceMinrev: true,
      lateLoading: true,
    });
    expect(good.find((r) => r.host === 'big')!.revision).toBe(0x3000390);
    expect(good.find((r) => r.host === 'legacy')!.lateLoading).toBe(false);
  });

  it('a header without a machine column stops the file; unknown columns are named once', () => {
    expect([...inventoryCsvRows('host,kernal\nweb,6.19\n')]).toEqual([
      {
        line: 1,
        message:
          'unknown column "kernal" ignored (known: host, count, machine, kernel, hz, firmware, revision, force-minrev, late-loading)',
      },
      {
        line: 1,
        message:
          "no 'machine' column in the header (columns: host, count, machine, kernel, hz, firmware, revision, force-minrev, late-loading)",
      },
    ]);
    expect([...inventoryCsvRows('# only a comment\n')]).toEqual([
      { line: null, message: 'an empty inventory (no header row)' },
    ]);
  });
});

describe('inventory rows', () => {
  it('defaults: the 6.19 kernel, HZ 1000, force_minrev off, late loading on', () => {
    const row = inventoryRow({ host: 'a', machine: 'gnr-2s' }, 3);
    expect(row).toMatchObject({
      line: 3,
      host: 'a',
      count: 1,
      hz: 1000,
      firmware: null,
      revision: null,
      forceMinrev: false,
      lateLoading: true,
      kernel: { release: '6.19', hasStaging: true, hasMinrevCheck: true, generation: '6.12+' },
    });
  });

  it('takes YAML values as they come (numbers, booleans) and names a bad column', () => {
    expect(
      inventoryRow({ count: 3, machine: 'spr-2s', hz: 250, revision: 0x2c000390, 'force-minrev': true }, 1),
    ).toMatchObject({
      count: 3,
      hz: 250,
      revision: 0x2c000390,
      forceMinrev: true,
    });
    expect(inventoryRow({ host: 'a', machine: 'up', 'late-loading': 'maybe' }, 9)).toEqual({
      line: 9,
      message: 'late-loading: expected yes or no, got "maybe"',
    });
    expect(inventoryRow({ machine: 'up' }, 2)).toEqual({
      line: 2,
      message: 'a row needs a host name or a count',
    });
    expect('message' in inventoryRow({ host: 'a\u001b[31m', machine: 'up' }, 2)).toBe(true);
  });

  it('kernel releases: staging from 6.19, the minimum-revision check from 6.7, msleep rounding from 6.12', () => {
    expect(inventoryKernel('6.19.3')).toMatchObject({
      hasStaging: true,
      hasMinrevCheck: true,
      generation: '6.12+',
    });
    expect(inventoryKernel('6.12.48')).toMatchObject({
      hasStaging: false,
      hasMinrevCheck: true,
      generation: '6.12+',
    });
    expect(inventoryKernel('6.8.0-45-generic')).toMatchObject({
      hasStaging: false,
      hasMinrevCheck: true,
      generation: 'pre-6.12',
    });
    expect(inventoryKernel('6.6')).toMatchObject({ hasMinrevCheck: false });
    expect(inventoryKernel('7.0')).toMatchObject({ hasStaging: true });
    expect(inventoryKernel('latest')).toBeNull();
  });

  it('names the hosts of a counted row: host-1 ... host-N, or file:line-k without a host', () => {
    expect(rowHostName({ host: 'web', count: 1, line: 4 }, 0, 'f.csv')).toBe('web');
    expect(rowHostName({ host: 'web', count: 3, line: 4 }, 2, 'f.csv')).toBe('web-3');
    expect(rowHostName({ host: null, count: 3, line: 4 }, 0, 'f.csv')).toBe('f.csv:4-1');
  });
});

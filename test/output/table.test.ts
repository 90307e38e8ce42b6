import { describe, expect, it } from 'vitest';
import { formatTable } from '../../src/output/table.js';

describe('formatTable', () => {
  it('pads each column to its widest cell, left or right, and trims the line end', () => {
    const lines = formatTable(
      [{ header: 'name' }, { header: 'n', align: 'right' }, { header: 'note' }],
      [
        ['a', '1', ''],
        ['longer', '100', 'x'],
      ],
    );
    expect(lines).toEqual(['name      n  note', 'a         1', 'longer  100  x']);
  });

  it('rules under the header and above the footer; footer rows count for the widths', () => {
    const lines = formatTable([{ header: 'k' }, { header: 'v', align: 'right' }], [['a', '1']], {
      rule: true,
      footer: [['total', '12345']],
    });
    expect(lines).toEqual(['k          v', '-----  -----', 'a          1', '-----  -----', 'total  12345']);
  });

  it('indent, gap, minimum widths, no header line without headers, missing cells empty', () => {
    const lines = formatTable([{}, { align: 'right', minWidth: 4 }], [['x', '7'], ['yy']], {
      indent: '> ',
      gap: ' | ',
    });
    expect(lines).toEqual(['> x  |    7', '> yy |']);
  });

  it('markdown: pipes, an alignment rule, no padding', () => {
    const lines = formatTable(
      [{ header: '#' }, { header: 'ms', align: 'right' }],
      [
        ['1', '2.5'],
        ['10', '12.25'],
      ],
      { style: 'markdown' },
    );
    expect(lines).toEqual(['| # | ms |', '| --- | ---: |', '| 1 | 2.5 |', '| 10 | 12.25 |']);
  });

  it('an empty table is its header', () => {
    expect(formatTable([{ header: 'a' }, { header: 'b' }], [], { rule: true })).toEqual(['a  b', '-  -']);
    expect(formatTable([{}], [])).toEqual([]);
  });
});

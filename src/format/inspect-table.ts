import { formatTable, type TableColumn } from '../output/table.js';
import { hex } from './hex.js';
import type { InspectBlob, InspectFile, InspectReport } from './inspect-report.js';

/** Numeric columns read better right-aligned. */
const COLUMNS: readonly TableColumn[] = [
  { header: 'FILE' },
  { header: '#', align: 'right' },
  { header: 'OFFSET', align: 'right' },
  { header: 'SIGNATURE' },
  { header: 'FMS' },
  { header: 'PF' },
  { header: 'REVISION' },
  { header: 'MIN-REV' },
  { header: 'DATE' },
  { header: 'SIZE', align: 'right' },
  { header: 'EXT', align: 'right' },
  { header: 'CHECK' },
];

function checkText(file: InspectFile, blob: InspectBlob | undefined): string {
  if (!file.error || blob?.valid) return 'ok';
  return `rejected at offset ${file.error.offset}: ${file.error.message}`;
}

function blobRow(name: string, file: InspectFile, blob: InspectBlob): string[] {
  return [
    name,
    String(blob.index),
    String(blob.offset),
    hex(blob.signature, 8),
    blob.fms,
    hex(blob.platformFlags, 2),
    hex(blob.revision),
    blob.minRequiredRevision ? hex(blob.minRequiredRevision) : '-',
    blob.date ?? hex(blob.dateRaw, 8),
    String(blob.totalSize),
    blob.valid ? String(blob.extendedSignatures.length) : '-',
    checkText(file, blob),
  ];
}

function fileRows(name: string, file: InspectFile): string[][] {
  const rows = file.blobs.map((blob) => blobRow(name, file, blob));
  const failingBlobListed = file.blobs.some((b) => !b.valid);
  if (file.error && !failingBlobListed) {
    // No readable header at the failure point: only where and why.
    const dashes = Array<string>(8).fill('-');
    rows.push([
      name,
      String(file.error.index),
      String(file.error.offset),
      ...dashes,
      checkText(file, undefined),
    ]);
  }
  if (file.size === 0) rows.push([name, '-', '-', ...Array<string>(8).fill('-'), 'empty file: no microcode']);
  return rows;
}

/** The human listing: one aligned row per blob, then a summary line. */
export function renderInspectTable(
  report: InspectReport,
  names: string[] = report.files.map((f) => f.path),
): string {
  const rows = report.files.flatMap((file, i) => fileRows(names[i], file));
  const { summary, match } = report;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  let matchText = '';
  if (match) {
    const cpu =
      match.platformId === null ? hex(match.signature) : `${hex(match.signature)},${match.platformId}`;
    matchText = ` (${summary.listedBlobs} matching ${cpu})`;
  }
  const summaryLine = `${plural(summary.files, 'file')}, ${plural(summary.validBlobs, 'valid blob')}${matchText}, ${summary.invalidFiles} invalid`;
  const table = rows.length ? `${formatTable(COLUMNS, rows).join('\n')}\n` : '';
  return `${table}${summaryLine}\n`;
}

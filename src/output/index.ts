export {
  type ChromeTraceEvent,
  type ChromeTraceFile,
  chromeTraceJson,
  toChromeTrace,
  validateChromeTrace,
} from './chrome-trace.js';
export {
  COLLAPSE_ABOVE_CPUS_PER_PACKAGE,
  type ReportInput,
  renderReport,
  reportLabels,
} from './html-report.js';
export {
  hasMmioTrace,
  type MailboxTransaction,
  MMIOTRACE_VERSION,
  MmiotraceParseError,
  mailboxTransactions,
  mmiotraceChunks,
  mmiotraceLines,
  parseMmiotrace,
  toMmiotrace,
} from './mmiotrace.js';
export type { ReportHandle, TimelineHandle } from './report-types.js';
export { formatSummary, type SummaryOptions } from './summary.js';

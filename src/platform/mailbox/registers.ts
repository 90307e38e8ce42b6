/**
 * The staging mailbox as the hardware sees it (spec §4). The device keeps its
 * own copy of these numbers: the driver and the device only agree through the
 * register interface, never through shared code.
 */

export const REG_CONTROL = 0x0;
export const REG_STATUS = 0x4;
export const REG_WRDATA = 0x8;
export const REG_RDDATA = 0xc;
/** Bytes of register space the device decodes. */
export const REGISTER_SPAN = 0x10;

export const CONTROL_ABORT = 0x1;
export const CONTROL_GO = 0x8000_0000;

export const STATUS_ERROR = 0x4;
export const STATUS_READY = 0x8000_0000;

export const RESP_SUCCESS = 0x1;
export const RESP_IN_PROGRESS = 0x2;
export const RESP_ERROR = 0x4;

/** Low dword of every mailbox header: Intel's vendor id and the staging object type. */
export const MBOX_HEADER_LOW = (0x8086 | (0xb << 16)) >>> 0;
export const MBOX_CMD_LOAD = 0x3;
/** Dwords of the mailbox header plus the command header in front of each chunk. */
export const REQUEST_HEADER_DWORDS = 4;
/** A response is its header (2 dwords), the next offset and the status. */
export const RESPONSE_DWORDS = 4;

export const CHUNK_BYTES = 4096;
export const CHUNK_DWORDS = CHUNK_BYTES / 4;
/** The request buffer: both headers plus one full chunk. */
export const REQUEST_CAPACITY_DWORDS = REQUEST_HEADER_DWORDS + CHUNK_DWORDS;

/** Next offset meaning "staging complete". */
export const END_OF_IMAGE = 0xffff_ffff;

/** Largest image the emulated staging buffers accept (10x a 2025 server blob). */
export const MAX_IMAGE_BYTES = 16 * 1024 * 1024;
/** STATUS of a transaction that ended in error but lets the host stop polling (unsigned). */
export const STATUS_ERROR_READY = (STATUS_ERROR | STATUS_READY) >>> 0;

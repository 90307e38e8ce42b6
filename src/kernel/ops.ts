/**
 * The contract between the vendor-neutral core and a vendor driver, shaped
 * like Linux's struct microcode_ops (internal.h) with the staging extension.
 * The core knows nothing else about Intel.
 */
export type UcodeState =
  | 'ok'
  | 'new'
  | 'new-safe'
  | 'updated'
  | 'not-found'
  | 'error'
  | 'timeout'
  | 'offline';

export interface CpuSignature {
  signature: number;
  /** The CPU's platform flag bit, 1 << IA32_PLATFORM_ID[52:50]. */
  platformFlags: number;
  revision: number;
}

export interface MicrocodeOps {
  /** Find and check the image for `cpu`; keeps it as the pending late-load image. */
  requestMicrocodeFw(cpu: number): UcodeState;
  /** Called on `cpu` inside the rendezvous. */
  applyMicrocode(cpu: number): UcodeState;
  /** Hand the pending image to the hardware ahead of the rendezvous, so each apply inside it is shorter. */
  stageMicrocode(): StagingOutcome;
  collectCpuInfo(cpu: number): CpuSignature;
  /** `failed` is true when nothing was updated: the driver drops the image. */
  finalizeLateLoad(failed: boolean): void;
  /** The pending image's revision, for reporting. */
  pendingRevision(): number | undefined;
  /** Driver init (init_intel_microcode): enumerate features such as staging. */
  init(): void;
  /** boot_cpu_data.microcode: the boot CPU's revision as last read. */
  readonly bootRevision: number;
  readonly nmiSafe: boolean;
  readonly useNmi: boolean;
  useStaging: boolean;
}

/**
 * What a vendor's staging step achieved: all the core needs (the `require`
 * policy). The vendor keeps its own record of how it staged.
 */
export interface StagingOutcome {
  ok: boolean;
  /** 0, or the negative errno that stopped staging (-EOPNOTSUPP when it could not start). */
  errno: number;
}

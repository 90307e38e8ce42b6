/** A guided example: one click sets every control to a run and says what to look at. */
export interface Example {
  id: string;
  title: string;
  /** The run, as `ucode-staging simulate` flags. */
  argv: string[];
  /** Two sentences: what the run is, and what to look at. */
  note: string;
}

export const EXAMPLES: readonly Example[] = [
  {
    id: 'default',
    title: 'The default load',
    argv: [],
    note: 'A 1.6 MB image late-loaded on the 2-socket Granite Rapids-class machine (512 CPUs), staging on, as Linux 6.19 does it. Look at the stop window next to the staging time: each package spends about 0.8 s staging before the CPUs stop, and the off-vs-on table shows the stop window about 40% shorter for it.',
  },
  {
    id: 'interleaved',
    title: 'Interleaved numbering',
    argv: ['--machine', 'gnr-2s-interleaved'],
    note: 'The same machine with CPUs numbered across the sockets (CPU 0 on package 0, CPU 1 on package 1, and so on). The kernel skips staging only when a primary thread is on the same package as the previous one, so look at the 256 staging passes and the reload time, while the stop window does not change.',
  },
  {
    id: 'dead-mailbox',
    title: 'A dead mailbox',
    argv: ['--fault', 'never-ready@0'],
    note: "The staging mailbox never reports READY. After 10,000 STATUS polls the driver gives up: look for 'Error: staging failed (-110)' in the kernel log and the single 20-second pass in the staging table, then see the load fall back to the unstaged apply and its longer stop window.",
  },
  {
    id: 'panic-16m',
    title: '16 MB image, staging fails',
    argv: ['--synthetic', '--image-size', '16M', '--fault', 'never-ready@0'],
    note: 'A 16 MB image whose staging fails, so every primary thread applies the whole image itself during the stop. Each apply takes over a second, the rendezvous times out and the kernel panics: look at the panic in the kernel log and the long apply spans in the timeline, then clear the fault to see staging keep the same image safe.',
  },
];

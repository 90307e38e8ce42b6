/**
 * Bad input to the library (an unknown preset, a machine field out of range, an
 * option the run-description grammar does not accept). The message names the
 * offending field or flag; the CLI prints it as one line and exits 2.
 */
export class SimulationInputError extends Error {
  override name = 'SimulationInputError';
}

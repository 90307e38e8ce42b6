// Kept for the commands that still import it; new code uses planOutputs() from output-plan.ts.
export { writeFileAtomic } from './output-file.js';

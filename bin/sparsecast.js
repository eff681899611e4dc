#!/usr/bin/env node
// The sparsecast CLI: runs the bundled build (npm run build makes dist/cli.js).
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).catch((err) => {
  console.error(err instanceof Error ? err.message : String(err));
  // A command may choose its status (75: the --out folder is busy, try again later); otherwise 1.
  process.exit(typeof err?.exitCode === 'number' ? err.exitCode : 1);
});

#!/usr/bin/env node
// The sparsecast CLI: runs the bundled build (npm run build makes dist/cli.js).
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).catch((err) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});

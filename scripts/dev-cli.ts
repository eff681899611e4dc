// Run the CLI from sources (development): node --import tsx scripts/dev-cli.ts train --data ...
// (not `npx tsx …`: tsx's runner SIGKILLs a child that takes over 30 ms to acknowledge Ctrl-C, so no checkpoint)
import { main } from '../src/cli/main.ts';

main(process.argv.slice(2)).catch((err) => {
  console.error(err instanceof Error ? (process.env.SPARSECAST_DEBUG ? err.stack : err.message) : String(err));
  // A command may choose its status (75: the --out folder is busy, try again later); otherwise 1.
  process.exit(typeof err?.exitCode === 'number' ? err.exitCode : 1);
});

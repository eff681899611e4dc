// Run the CLI from sources (development): npx tsx scripts/dev-cli.ts train --data ...
import { main } from '../src/cli/main.ts';

main(process.argv.slice(2)).catch((err) => {
  console.error(err instanceof Error ? (process.env.SPARSECAST_DEBUG ? err.stack : err.message) : String(err));
  process.exit(1);
});

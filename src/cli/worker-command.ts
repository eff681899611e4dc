/**
 * `sparsecast worker --queue redis://host:port/db [--concurrency N] [--threads N] [--artifacts DIR] [--lock_ms MS]
 * [--name NAME]`: take queued sweep runs (from `sparsecast sweep … --queue URL --name NAME`) until stopped. Start
 * one per machine (or more); --artifacts should be a folder every worker sees (NFS, a mounted bucket) so a run
 * continues from its checkpoint on whichever worker picks it up. Ctrl-C / SIGTERM: running trains checkpoint, their
 * jobs go back to the queue, and the worker exits (130 / 143); a second signal exits at once.
 */
import { parseCommandArgs } from './flags.ts';
import { WORKER } from './commands.ts';
import { SweepWorker, defaultWorkerName } from '../queue/worker.ts';
import { redisOptions } from '../queue/connection.ts';

function positiveInt(name: string, raw: string | undefined, fallback: number | undefined): number | undefined {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1) throw new Error(`sparsecast worker: --${name} expects a positive integer, got '${raw}'`);
  return v;
}

export async function workerCommand(argv: string[], entry: string[] = [...process.execArgv, process.argv[1]!]): Promise<void> {
  const args = parseCommandArgs(WORKER, argv);
  const values = Object.fromEntries(args.flags) as Record<string, string | undefined>;
  if (!values.queue) throw new Error('sparsecast worker: --queue redis://host:port/db is required');
  redisOptions(values.queue); // a malformed URL fails here, before anything starts
  const worker = new SweepWorker({
    url: values.queue,
    concurrency: positiveInt('concurrency', values.concurrency, 1)!,
    threads: positiveInt('threads', values.threads, undefined),
    artifacts: values.artifacts ?? 'artifacts',
    lockMs: positiveInt('lock_ms', values.lock_ms, 30_000)!,
    name: values.name ?? defaultWorkerName(),
    entry,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalled) {
      process.stderr.write(`worker: ${sig} again, exiting now (the jobs go to other workers when their locks expire)\n`);
      worker.kill();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    signalled = sig;
    process.stderr.write(`worker: ${sig}: stopping the running trains at a checkpoint and giving their jobs back (${sig} again to exit now)\n`);
    void worker.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  await worker.run();
  if (signalled) process.exit(signalled === 'SIGINT' ? 130 : 143);
}

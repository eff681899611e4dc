/**
 * Output nobody reads any more must not end a run. A closed pipe (`sparsecast train … | head`, a worker whose
 * parent died) made the next progress line throw EPIPE, and training died at once: no checkpoint, no result,
 * exit 1. What can no longer be written is dropped instead, and the run goes on and writes its files.
 */
const GONE = new Set(['EPIPE', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END']);

export function surviveClosedOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (!GONE.has(e.code ?? '')) throw e;
    });
  }
}

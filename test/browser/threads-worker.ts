/**
 * Runs test/shared/threads-check.ts inside a browser Worker (the only place a browser lets the calling thread
 * block in Atomics.wait) and posts the result to the page (test/browser/threads-entry.ts).
 */
import { threadsCheck } from '../shared/threads-check.ts';

threadsCheck().then(
  (r) => postMessage(r),
  (e: unknown) => postMessage({ error: String((e as Error)?.stack ?? e) }),
);

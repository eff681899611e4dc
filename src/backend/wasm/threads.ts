/**
 * The wasm thread pool: N − 1 workers, each running its own instance of the shared-memory kernel module
 * (build/kernels-threads.wasm) on the one shared linear memory, plus the calling thread, which always does
 * share 0 of a job itself and then waits for the others.
 *
 * A job is one kernel export called once per thread with that thread's arguments (`run(name, parts)`); the
 * kernel glue decides the parts so that every output element is written by exactly one thread and summed in
 * the same order as the one-thread call (see kernels/parallel.ts), which makes results bit-identical for any
 * thread count. Jobs are handed over through a small SharedArrayBuffer control block:
 *
 *   Int32 header  GEN (job counter: workers wait on it), PENDING (workers still busy), STOP
 *   Int32 slots   per worker: FN (export index, −1 = nothing to do), ARGC, STATUS (0 ok, 1 failed), ERRLEN
 *   Float64 args  per worker: up to ARGS_PER_SLOT arguments (byte offsets and sizes are exact in f64)
 *   Uint8 errors  per worker: the failure message, UTF-8, truncated to ERR_BYTES
 *
 * Workers are node:worker_threads workers in Node and Deno (unref'd, so they never keep a process alive) and
 * module Workers in browsers. The calling thread blocks in Atomics.wait while workers finish. That is allowed
 * in Node, Deno and browser Workers but not on a browser page's main thread, and browsers have
 * SharedArrayBuffer only on cross-origin-isolated pages: `threadSupport()` says which, and the backend falls
 * back to one thread (with one console.warn) when threads are asked for and unavailable.
 *
 * Failures never hang the caller: a kernel that throws in a worker is reported by the caller as an Error
 * naming the kernel and the worker's message; a worker that does not answer within `timeoutMs` (crashed,
 * killed) makes the caller throw an Error naming the kernel, after which the pool is shut down and the
 * backend runs on one thread.
 */
import { WORKER_SOURCE } from './thread-worker.ts';

/** The control block layout; sent to the workers, so both sides read the same numbers. */
const LAYOUT_BASE = {
  GEN: 0,
  PENDING: 1,
  STOP: 2,
  header: 4,
  FN: 0,
  ARGC: 1,
  STATUS: 2,
  ERRLEN: 3,
  slotInts: 4,
  argsPerSlot: 24,
  errBytes: 512,
  /** Iterations of Atomics.load a worker spins on GEN before it sleeps. */
  spin: 2000,
};

export type ThreadLayout = typeof LAYOUT_BASE & {
  slots: number;
  ints: number;
  argsByteOffset: number;
  errByteOffset: number;
};

function layoutFor(slots: number): ThreadLayout {
  const ints = LAYOUT_BASE.header + slots * LAYOUT_BASE.slotInts;
  const argsByteOffset = Math.ceil((ints * 4) / 8) * 8;
  const errByteOffset = argsByteOffset + slots * LAYOUT_BASE.argsPerSlot * 8;
  return { ...LAYOUT_BASE, slots, ints, argsByteOffset, errByteOffset };
}

/** Whether this runtime can run the pool; `why` says what is missing when it cannot. */
export function threadSupport(): { ok: boolean; why?: string } {
  const g = globalThis as Record<string, unknown>;
  if (typeof SharedArrayBuffer === 'undefined') {
    const why = g.crossOriginIsolated === false
      ? 'the page is not cross-origin isolated (serve it with COOP: same-origin and COEP: require-corp), ' +
        'so SharedArrayBuffer is unavailable'
      : 'SharedArrayBuffer is unavailable in this runtime';
    return { ok: false, why };
  }
  if (g.crossOriginIsolated === false) {
    return { ok: false, why: 'the page is not cross-origin isolated (COOP/COEP headers)' };
  }
  if (typeof g.document !== 'undefined') {
    const why = "a browser page's main thread may not block in Atomics.wait; create the backend inside a Worker";
    return { ok: false, why };
  }
  if (!hasNodeWorkers() && typeof g.Worker !== 'function') return { ok: false, why: 'this runtime has no Worker' };
  return { ok: true };
}

/** The few things the pool needs from a worker, whatever runtime made it. */
interface WorkerHandle {
  post(msg: unknown): void;
  onMessage(fn: (msg: { ready?: boolean; error?: string }) => void): void;
  onError(fn: (err: unknown) => void): void;
  /** Drop the start-up message listener and make sure the worker does not keep the process alive. */
  detach(): void;
  terminate(): void;
}

/** Node, or Deno (whose node:worker_threads can unref a worker; its web Workers keep the process alive). */
function hasNodeWorkers(): boolean {
  const g = globalThis as Record<string, unknown>;
  const node = (g.process as { versions?: { node?: string } } | undefined)?.versions?.node;
  return typeof g.process === 'object' && !!node && typeof g.document === 'undefined';
}

async function spawnWorker(): Promise<WorkerHandle> {
  const g = globalThis as Record<string, unknown>;
  if (hasNodeWorkers()) {
    // A computed specifier keeps bundlers for the browser from trying to resolve a Node builtin.
    const spec = 'node:worker_threads';
    const { Worker } = (await import(spec)) as typeof import('node:worker_threads');
    // execArgv: []: the worker runs plain JavaScript, so it needs none of the parent's loaders (tsx, …).
    const w = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
    return {
      post: (m) => w.postMessage(m),
      onMessage: (fn) => w.on('message', fn),
      onError: (fn) => w.on('error', fn),
      // Workers never keep the process alive: a program that forgets backend.dispose() still exits. (A
      // 'message' listener re-refs a Node worker, so unref comes after removing it.)
      detach: () => {
        w.removeAllListeners('message');
        w.unref();
      },
      terminate: () => void w.terminate(),
    };
  }
  // Browsers: a module worker from a blob URL.
  const WorkerCtor = g.Worker as typeof Worker;
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  const w = new WorkerCtor(url, { type: 'module' });
  return {
    post: (m) => w.postMessage(m),
    onMessage: (fn) => w.addEventListener('message', (e) => fn((e as MessageEvent).data)),
    onError: (fn) => w.addEventListener('error', (e) => {
      (e as Event).preventDefault?.();
      fn((e as ErrorEvent).message ?? e);
    }),
    // The URL stays valid until the worker has loaded its script (it has, once it says ready).
    detach: () => URL.revokeObjectURL(url),
    terminate: () => {
      URL.revokeObjectURL(url);
      w.terminate();
    },
  };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Send worker `t` its start message; resolves when it says ready, rejects on its error or after timeoutMs. */
function startWorker(w: WorkerHandle, t: number, init: unknown, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`wasm threads: worker ${t} did not start within ${timeoutMs} ms`)), timeoutMs);
    const done = (e?: Error) => {
      clearTimeout(timer);
      if (e) reject(e);
      else resolve();
    };
    w.onMessage((m) => {
      if (m.error !== undefined) done(new Error(`wasm threads: worker ${t} failed to start: ${m.error}`));
      else if (m.ready) done();
    });
    w.onError((e) => done(new Error(`wasm threads: worker ${t} failed: ${message(e)}`)));
    w.post(init);
  });
}

export interface ThreadPoolOptions {
  /** Threads including the calling one (≥ 2). */
  threads: number;
  /** The shared-memory kernel module and the shared memory every instance uses. */
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** The calling thread's instance exports (it runs share 0 of every job with them). */
  exports: Record<string, unknown>;
  /** Byte offsets of each worker's kernel scratch block (threads − 1 of them), reserved by the caller. */
  scratch: number[];
  /** How long the calling thread waits for workers before it gives up on a job. Default 120 000 ms. */
  timeoutMs?: number;
}

export class ThreadPool {
  /** Threads that share a job (the calling thread included); 1 once the pool is shut down. */
  private threads: number;
  private readonly workers: WorkerHandle[];
  private readonly layout: ThreadLayout;
  private readonly ctl: Int32Array;
  private readonly args: Float64Array;
  private readonly err: Uint8Array;
  private readonly index = new Map<string, number>();
  private readonly exports: Record<string, unknown>;
  private readonly timeoutMs: number;
  private closed = false;
  /** The first error a worker reported after start-up, if any. */
  lost: string | undefined;

  private constructor(
    opts: ThreadPoolOptions, workers: WorkerHandle[], layout: ThreadLayout, control: SharedArrayBuffer, names: string[],
  ) {
    this.threads = opts.threads;
    this.workers = workers;
    this.layout = layout;
    this.ctl = new Int32Array(control, 0, layout.ints);
    this.args = new Float64Array(control, layout.argsByteOffset, layout.argsPerSlot * layout.slots);
    this.err = new Uint8Array(control, layout.errByteOffset, layout.errBytes * layout.slots);
    this.exports = opts.exports;
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    names.forEach((n, i) => this.index.set(n, i));
  }

  /** Start threads − 1 workers and wait until each has instantiated the module. */
  static async create(opts: ThreadPoolOptions): Promise<ThreadPool> {
    const slots = opts.threads - 1;
    if (!(Number.isInteger(opts.threads) && opts.threads >= 2)) {
      throw new Error(`wasm threads: thread count must be an integer ≥ 2, got ${opts.threads}`);
    }
    if (opts.scratch.length !== slots) throw new Error(`wasm threads: ${slots} scratch blocks needed, got ${opts.scratch.length}`);
    const layout = layoutFor(slots);
    const control = new SharedArrayBuffer(layout.errByteOffset + layout.errBytes * slots);
    const names = Object.keys(opts.exports).filter((n) => typeof opts.exports[n] === 'function');
    const timeoutMs = opts.timeoutMs ?? 120_000;
    const workers: WorkerHandle[] = [];
    try {
      for (let s = 0; s < slots; s++) workers.push(await spawnWorker());
      await Promise.all(workers.map((w, s) => {
        const init = { module: opts.module, memory: opts.memory, control, slot: s, scratch: opts.scratch[s], names, layout };
        return startWorker(w, s + 1, init, timeoutMs);
      }));
    } catch (e) {
      for (const w of workers) w.terminate();
      throw e;
    }
    const pool = new ThreadPool(opts, workers, layout, control, names);
    workers.forEach((w, s) => {
      w.detach();
      // A worker that dies later (it never should: kernel errors are caught in the worker) is remembered for
      // the time-out message; the calling thread cannot see the event while it blocks.
      w.onError((e) => (pool.lost ??= `worker ${s + 1}: ${message(e)}`));
    });
    return pool;
  }

  /** Threads a job is split over (the calling thread included); 1 after shutdown. */
  get size(): number {
    return this.threads;
  }

  /**
   * Run export `name` once per part, concurrently: parts[0] on the calling thread, parts[t] on worker t
   * (missing or null parts: that thread has nothing to do). Returns when every part has finished; throws
   * (after all parts have finished, so no thread still writes into memory the caller may free) when any
   * part threw, naming the kernel.
   */
  run(name: string, parts: ReadonlyArray<ReadonlyArray<number> | null>): void {
    if (this.closed) throw new Error(`${name}: the wasm thread pool was shut down`);
    if (parts.length > this.threads) throw new Error(`${name}: ${parts.length} parts for ${this.threads} threads`);
    const fi = this.index.get(name);
    const fn = this.exports[name];
    if (fi === undefined || typeof fn !== 'function') {
      throw new Error(`${name}: no such kernel export in the shared-memory module`);
    }
    const L = this.layout;
    const ctl = this.ctl;
    for (let s = 0; s < L.slots; s++) {
      const slot = L.header + s * L.slotInts;
      const p = parts[s + 1];
      ctl[slot + L.STATUS] = 0;
      if (!p) {
        ctl[slot + L.FN] = -1;
        continue;
      }
      if (p.length > L.argsPerSlot) throw new Error(`${name}: ${p.length} arguments exceed the pool's ${L.argsPerSlot}`);
      ctl[slot + L.FN] = fi;
      ctl[slot + L.ARGC] = p.length;
      this.args.set(p, s * L.argsPerSlot);
    }
    Atomics.store(ctl, L.PENDING, L.slots);
    Atomics.add(ctl, L.GEN, 1);
    Atomics.notify(ctl, L.GEN);

    let own: unknown = null;
    if (parts[0]) {
      try {
        (fn as (...a: number[]) => unknown)(...parts[0]);
      } catch (e) {
        own = e;
      }
    }
    this.wait(name);

    if (own !== null) throw new Error(`${name}: failed on the calling thread: ${message(own)}`, { cause: own });
    for (let s = 0; s < L.slots; s++) {
      const slot = L.header + s * L.slotInts;
      if (ctl[slot + L.STATUS] !== 0) {
        const len = ctl[slot + L.ERRLEN]!;
        // TextDecoder refuses views of shared memory: copy the bytes out first.
        const msg = new TextDecoder().decode(this.err.slice(s * L.errBytes, s * L.errBytes + len));
        throw new Error(`${name}: failed in wasm worker thread ${s + 1}: ${msg}`);
      }
    }
  }

  /** Block until every worker has finished the current job, or give up after timeoutMs. */
  private wait(name: string): void {
    const ctl = this.ctl;
    const P = this.layout.PENDING;
    for (let i = 0; i < 4000; i++) if (Atomics.load(ctl, P) === 0) return;
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const v = Atomics.load(ctl, P);
      if (v === 0) return;
      const left = deadline - Date.now();
      if (left <= 0) break;
      Atomics.wait(ctl, P, v, Math.min(left, 1000));
    }
    const busy = Atomics.load(ctl, P);
    this.shutdown();
    throw new Error(
      `${name}: timed out after ${this.timeoutMs} ms waiting for ${busy} wasm worker thread(s) ` +
        `(${this.lost ? `it failed: ${this.lost}` : 'crashed or killed?'}); ` +
        'the thread pool was shut down and the backend continues on one thread',
    );
  }

  /** Stop and terminate the workers; idempotent. Later jobs run on the calling thread only. */
  shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.threads = 1;
    Atomics.store(this.ctl, this.layout.STOP, 1);
    Atomics.add(this.ctl, this.layout.GEN, 1);
    Atomics.notify(this.ctl, this.layout.GEN);
    for (const w of this.workers) w.terminate();
  }

  /** For tests: make worker `t` (1-based) unresponsive, as if it had crashed. */
  killWorkerForTest(t: number): void {
    this.workers[t - 1]?.terminate();
  }

  get isShutdown(): boolean {
    return this.closed;
  }
}

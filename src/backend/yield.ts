/**
 * One turn of the event loop for long compute loops. Training and evaluation await only promises that
 * settle as microtasks (wasm reads), so without this a whole `fit()` never returns to the event loop: signal
 * handlers (Ctrl-C), stream writes and timers wait until it ends. Awaiting `yieldToEventLoop()` runs pending
 * macrotasks (a SIGINT handler, a worker's incoming message) before the next step.
 *
 * setImmediate where it exists (Node, Bun): the cheapest macrotask (a few µs), and it does not keep the
 * process alive. Elsewhere (browsers, Web Workers, Deno) a message on a fresh MessageChannel, closed once it
 * arrives so that no open port keeps the runtime alive: a macrotask without the ≥ 4 ms clamp that nested
 * setTimeout(0) gets. setTimeout(0) is the last resort.
 */
type Immediate = (cb: () => void) => unknown;

export function yieldToEventLoop(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: Immediate }).setImmediate;
  return new Promise<void>((resolve) => {
    if (typeof immediate === 'function') {
      immediate(resolve);
    } else if (typeof MessageChannel === 'function') {
      const { port1, port2 } = new MessageChannel();
      port1.onmessage = () => {
        port1.close();
        port2.close();
        resolve();
      };
      port2.postMessage(0);
    } else {
      setTimeout(resolve, 0);
    }
  });
}

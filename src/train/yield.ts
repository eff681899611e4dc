/**
 * One turn of the event loop for long compute loops. Training and evaluation await only promises that
 * settle as microtasks (wasm reads), so without this a whole `fit()` never returns to the event loop: signal
 * handlers (Ctrl-C), stream writes and timers wait until it ends. Awaiting `yieldToEventLoop()` runs pending
 * macrotasks (a SIGINT handler, a worker's incoming message) before the next step.
 *
 * setImmediate where it exists (Node, Bun): the cheapest macrotask and it does not keep the process alive.
 * Elsewhere (browsers, Web Workers, Deno) a MessageChannel message: a macrotask without the ≥ 4 ms clamp that
 * nested setTimeout(0) gets in browsers. setTimeout(0) is the last resort.
 */
type Immediate = (cb: () => void) => unknown;

let channel: MessageChannel | null = null;
const waiting: Array<() => void> = [];

function viaChannel(resolve: () => void): void {
  if (!channel) {
    channel = new MessageChannel();
    channel.port1.onmessage = () => waiting.shift()?.();
  }
  waiting.push(resolve);
  channel.port2.postMessage(0);
}

export function yieldToEventLoop(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: Immediate }).setImmediate;
  return new Promise<void>((resolve) => {
    if (typeof immediate === 'function') immediate(resolve);
    else if (typeof MessageChannel === 'function') viaChannel(resolve);
    else setTimeout(resolve, 0);
  });
}

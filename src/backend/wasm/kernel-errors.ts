/**
 * Which kernel ran out of wasm memory, and on what. An allocation failing inside a kernel (the heap is 4 GiB at
 * most on wasm32) said only how many bytes it wanted; wrapped here, the error names the kernel and its
 * arguments' sizes and shapes, so the op of the user's program that asked for them can be found.
 */
import type { Kernels } from '../kernels.ts';
import { OUT_OF_MEMORY } from './runtime.ts';

/** A kernel argument in a line: storages as dtype[size], shapes as [2, 3], option objects field by field. */
function describeArg(a: unknown, depth: number): string {
  if (Array.isArray(a)) return depth > 1 ? `[${a.length}]` : `[${a.map((x) => describeArg(x, depth + 1)).join(', ')}]`;
  if (a === null || typeof a !== 'object') return String(a);
  const o = a as Record<string, unknown>;
  if (typeof o['dtype'] === 'string' && typeof o['size'] === 'number') return `${o['dtype']}[${o['size']}]`;
  if (depth > 0) return '{…}';
  return `{${Object.entries(o).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}: ${describeArg(v, depth + 1)}`).join(', ')}}`;
}

/** Replace each kernel of `kernels` by one that adds its name and arguments to an out-of-memory error it throws. */
export function nameOutOfMemory(kernels: Kernels): void {
  const table = kernels as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of Object.keys(table)) {
    const run = table[name]!;
    table[name] = (...args: unknown[]) => {
      try {
        return run(...args);
      } catch (e) {
        if (!(e instanceof Error && e.message.startsWith(OUT_OF_MEMORY))) throw e;
        throw new Error(`${name}(${args.map((a) => describeArg(a, 0)).join(', ')}): ${e.message}`, { cause: e });
      }
    };
  }
}

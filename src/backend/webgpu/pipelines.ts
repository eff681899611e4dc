/**
 * Compute pipelines, cached per (kernel family, entry point, specialization).
 *
 * A specialization is a set of `const` / `alias` declarations of the family's WGSL file whose right-hand
 * sides are replaced before compilation (e.g. `alias TA = f32;` → `alias TA = i32;`, `const OP: u32 = 0u;`
 * → `const OP: u32 = 3u;`, tile sizes of matmul). Constants fold at compile time, so a specialized pipeline
 * has no runtime branching on them. Every family is compiled with shaders/common.wgsl prepended.
 */
import { SHADERS } from './generated/shaders.ts';

export type Spec = Record<string, string | number>;

/** Replace the right-hand side of `const NAME ... = ...;` / `alias NAME = ...;` for each name in `spec`. */
export function specialize(family: string, source: string, spec: Spec): string {
  let out = source;
  for (const [name, value] of Object.entries(spec)) {
    const re = new RegExp(`^(\\s*(?:const|alias)\\s+${name}\\s*(?::\\s*[A-Za-z0-9_<>]+\\s*)?=\\s*)[^;]+;`, 'm');
    if (!re.test(out)) throw new Error(`webgpu: shader '${family}' has no const/alias '${name}' to specialize`);
    const text = typeof value === 'number' ? (Number.isInteger(value) ? `${value}u` : `${value}`) : value;
    out = out.replace(re, `$1${text};`);
  }
  return out;
}

export function specKey(spec: Spec): string {
  return Object.keys(spec)
    .sort()
    .map((k) => `${k}=${spec[k]}`)
    .join(',');
}

export class PipelineCache {
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(private readonly device: GPUDevice) {}

  get size(): number {
    return this.pipelines.size;
  }

  get(family: string, entry: string, spec: Spec = {}): GPUComputePipeline {
    const sk = specKey(spec);
    const key = `${family}:${entry}:${sk}`;
    let p = this.pipelines.get(key);
    if (p) return p;
    const mkey = `${family}:${sk}`;
    let module = this.modules.get(mkey);
    if (!module) {
      const src = SHADERS[family];
      const common = SHADERS['common'];
      if (src === undefined || common === undefined) {
        throw new Error(`webgpu: no shader '${family}' (run npm run build:shaders to regenerate the shader map)`);
      }
      const code = `${common}\n${specialize(family, src, spec)}`;
      module = this.device.createShaderModule({ code, label: mkey });
      this.modules.set(mkey, module);
    }
    p = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: entry }, label: key });
    this.pipelines.set(key, p);
    return p;
  }
}

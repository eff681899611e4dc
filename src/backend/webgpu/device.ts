/**
 * Acquiring a WebGPU device, wherever the code runs:
 * - Deno and browsers: `navigator.gpu`;
 * - Node: Dawn's bindings from the npm package `webgpu` (an optional peer dependency: 132 MB of native binaries
 *   that users of the wasm backend or the inference entry should never download, so it is installed only on
 *   request, `npm install webgpu`): `create([])` returns a `GPU` object like `navigator.gpu`.
 * Without an adapter there is exactly one error, saying how to get one (scripts/setup-webgpu.sh installs
 * Mesa's lavapipe, a software Vulkan driver Dawn runs on; Chromium needs --enable-unsafe-webgpu).
 *
 * Limits: the device asks for the adapter's maximum storage-buffer binding and buffer sizes, and up to 10
 * storage buffers per stage (8 is the WebGPU default and enough for every kernel here). Kernels respect
 * `maxComputeInvocationsPerWorkgroup` (256 on some adapters) and never use shader-f16.
 */

export interface GpuContext {
  gpu: GPU;
  adapter: GPUAdapter;
  device: GPUDevice;
  /** Adapter description for messages and caches ("vendor / architecture / description"). */
  description: string;
}

export interface AcquireOptions {
  /** Use this GPU object instead of looking one up (tests, custom Dawn instances). */
  gpu?: GPU;
  powerPreference?: GPUPowerPreference;
  /** Dawn toggles for Node's `create()` (e.g. ['backend=vulkan']). */
  dawnOptions?: string[];
}

const HOW_TO =
  'To get one: in Node, install the optional peer package `webgpu` beside sparsecast (npm install webgpu) and, on a machine without a ' +
  'GPU, a recent software Vulkan driver (Mesa >= 25 lavapipe) with `sudo bash scripts/setup-webgpu.sh`; in ' +
  'Chromium start with --enable-unsafe-webgpu; in Deno navigator.gpu works as is. Or use the js/wasm backends.';

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string' && typeof (globalThis as { Deno?: unknown }).Deno === 'undefined';
}

let nodeGpu: GPU | undefined;

async function findGpu(opts: AcquireOptions): Promise<{ gpu: GPU | undefined; why: string }> {
  if (opts.gpu) return { gpu: opts.gpu, why: '' };
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return { gpu: nav.gpu, why: '' };
  if (!isNode()) return { gpu: undefined, why: 'navigator.gpu is not available in this runtime' };
  if (nodeGpu) return { gpu: nodeGpu, why: '' };
  try {
    // A variable specifier keeps bundlers for the browser from trying to resolve the Node-only package.
    const name = 'webgpu';
    const mod = (await import(/* @vite-ignore */ name)) as { create: (o: string[]) => GPU; globals: object };
    // Dawn's classes (GPUBufferUsage, GPUMapMode, ...) become globals, as in a browser.
    Object.assign(globalThis, mod.globals);
    nodeGpu = mod.create(opts.dawnOptions ?? []);
    return { gpu: nodeGpu, why: '' };
  } catch (e) {
    const missing = (e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND';
    return { gpu: undefined, why: missing ? "the npm package 'webgpu' is not installed (it is an optional peer dependency: run `npm install webgpu`)" : `the npm package 'webgpu' could not be loaded (${(e as Error).message})` };
  }
}

/** One device for one backend. Throws a single clear Error when no adapter is available. */
export async function acquireDevice(opts: AcquireOptions = {}): Promise<GpuContext> {
  const { gpu, why } = await findGpu(opts);
  if (!gpu) throw new Error(`webgpu: no WebGPU implementation: ${why}. ${HOW_TO}`);
  const adapter = await gpu.requestAdapter(
    opts.powerPreference ? { powerPreference: opts.powerPreference } : undefined,
  );
  if (!adapter) {
    throw new Error(
      'webgpu: no WebGPU adapter (requestAdapter() returned null; in Node this usually means no Vulkan ' +
        `driver, or Mesa older than 25). ${HOW_TO}`,
    );
  }
  const al = adapter.limits;
  const requiredLimits: Record<string, number> = {
    maxStorageBufferBindingSize: al.maxStorageBufferBindingSize,
    maxBufferSize: al.maxBufferSize,
    maxStorageBuffersPerShaderStage: Math.min(al.maxStorageBuffersPerShaderStage, 10),
    maxComputeWorkgroupStorageSize: al.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: al.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: al.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupSizeY: al.maxComputeWorkgroupSizeY,
  };
  const device = await adapter.requestDevice({ requiredLimits });
  const info = (adapter as { info?: GPUAdapterInfo }).info;
  const description =
    [info?.vendor, info?.architecture, info?.description].filter((s) => s && s.length > 0).join(' / ') ||
    'unknown adapter';
  return { gpu, adapter, device, description };
}

/**
 * The browser demo end to end: builds it (scripts/build-demo.mjs via scripts/serve-demo.mjs, which `npm run
 * demo` runs), serves it on 127.0.0.1 (random port), loads it in Debian's headless Chromium (playwright-core,
 * fresh profile, test/shared/chromium.ts), trains the tiny preset with PALS for a few steps in the
 * Web Worker, and checks that the loss and sparsity charts change while it trains, that the forecast and the
 * density bars render, that Stop and Export work, and that a screenshot has drawn (coloured) pixels inside each
 * chart's region (decoded with the small PNG reader below). Dense training on the webgpu backend (SwiftShader's
 * adapter under --enable-unsafe-webgpu; asynchronous reads) gives the wasm run's losses within 1e-3.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelFile } from '../src/io/model-file.ts';
import { loadForecaster } from '../src/infer/index.ts';
import { parseCsv } from '../src/data/csv.ts';
import { splitBorders } from '../src/data/dataset.ts';
import { openPage, requireChromium, type Cleanup } from './shared/chromium.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

interface Image {
  width: number;
  height: number;
  /** RGBA, row-major. */
  rgba: Uint8Array;
}

/** A minimal PNG reader: 8-bit RGB or RGBA, not interlaced (what Chromium's screenshots are). */
function decodePng(buf: Uint8Array): Image {
  const sig = [137, 80, 78, 71, 13, 10, 26, 10];
  if (!sig.every((b, i) => buf[i] === b)) throw new Error('png: bad signature');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Uint8Array[] = [];
  while (pos + 8 <= buf.length) {
    const len = dv.getUint32(pos);
    const type = String.fromCharCode(...buf.subarray(pos + 4, pos + 8));
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = dv.getUint32(pos + 8);
      height = dv.getUint32(pos + 12);
      const [depth, colorType, , , interlace] = data.subarray(8, 13);
      if (depth !== 8 || interlace !== 0 || (colorType !== 2 && colorType !== 6)) throw new Error(`png: unsupported format (depth ${depth}, color type ${colorType}, interlace ${interlace})`);
      channels = colorType === 6 ? 4 : 3;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  if (raw.length !== height * (stride + 1)) throw new Error(`png: ${raw.length} bytes of pixel data for ${width}×${height}`);
  const px = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const o = y * stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? px[o + i - channels]! : 0;
      const b = y > 0 ? px[o - stride + i]! : 0;
      const c = i >= channels && y > 0 ? px[o - stride + i - channels]! : 0;
      let pred = 0;
      if (filter === 1) pred = a;
      else if (filter === 2) pred = b;
      else if (filter === 3) pred = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else if (filter !== 0) throw new Error(`png: bad filter ${filter} on row ${y}`);
      px[o + i] = (line[i]! + pred) & 255;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba[i * 4] = px[i * channels]!;
    rgba[i * 4 + 1] = px[i * channels + 1]!;
    rgba[i * 4 + 2] = px[i * channels + 2]!;
    rgba[i * 4 + 3] = channels === 4 ? px[i * channels + 3]! : 255;
  }
  return { width, height, rgba };
}

/** Pixels in a box that are clearly coloured (not white, grey or black): drawn series, markers, bars. */
function colouredPixels(img: Image, box: { x: number; y: number; width: number; height: number }): number {
  let n = 0;
  const x0 = Math.max(0, Math.floor(box.x));
  const y0 = Math.max(0, Math.floor(box.y));
  const x1 = Math.min(img.width, Math.ceil(box.x + box.width));
  const y1 = Math.min(img.height, Math.ceil(box.y + box.height));
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = (y * img.width + x) * 4;
      const r = img.rgba[i]!;
      const g = img.rgba[i + 1]!;
      const b = img.rgba[i + 2]!;
      if (Math.max(r, g, b) - Math.min(r, g, b) > 60) n++;
    }
  }
  return n;
}

function startServer(site: string): Promise<{ proc: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [join(root, 'scripts/serve-demo.mjs'), '--port', '0', '--out', site], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`serve-demo printed no URL in 90 s\n${out}\n${err}`)), 90_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = out.match(/sparsecast demo: (http:\/\/127\.0\.0\.1:\d+\/)/);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, url: m[1]! });
      }
    });
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve-demo exited with ${code}\n${out}\n${err}`));
    });
  });
}

describe('browser demo (headless Chromium)', () => {
  const cleanup: Cleanup = [];
  let page: Page;
  let url: string;
  let work: string;
  let logs: string[] = [];
  let initError: unknown = null;
  const ready = (): void => {
    if (initError) throw initError;
  };

  beforeAll(async () => {
    try {
      requireChromium();
      work = await mkdtemp(join(tmpdir(), 'sparsecast-demo-'));
      cleanup.push(() => rm(work, { recursive: true, force: true }));
      const server = await startServer(join(work, 'site'));
      url = server.url;
      cleanup.unshift(async () => server.proc.kill('SIGTERM'));
      ({ page, logs } = await openPage(url, cleanup, {
        profile: join(work, 'profile'),
        context: { viewport: { width: 1280, height: 1000 }, deviceScaleFactor: 1, acceptDownloads: true },
      }));
    } catch (e) {
      initError = e;
    }
  }, 120_000);

  afterAll(async () => {
    for (const f of cleanup) await f().catch(() => undefined);
  });

  const chartHtml = () => page.evaluate(() => ({
    loss: document.querySelector('#loss-chart')!.innerHTML,
    sparsity: document.querySelector('#sparsity-chart')!.innerHTML,
  }));

  it('trains the tiny preset with PALS in a worker, updating loss, sparsity, density and forecast charts', async () => {
    ready();
    await page.selectOption('#dataset', 'ETTh1.csv');
    await page.selectOption('#model', 'Transformer');
    await page.selectOption('#preset', 'tiny');
    await page.selectOption('#method', 'pals');
    await page.selectOption('#backend', 'auto');
    await page.fill('#epochs', '2');
    // Enough steps that the throttled charts (≤ 1 redraw per 150 ms) redraw several times even on fast kernels.
    await page.fill('#steps', '60');
    await page.fill('#update-freq', '10');
    await page.fill('#val-batches', '2');
    const before = await chartHtml();
    // Count redraws of the two live charts that happen while the worker is still training.
    await page.evaluate(() => {
      const w = window as unknown as { __redraws: Record<string, number> };
      w.__redraws = { loss: 0, sparsity: 0 };
      for (const id of ['loss', 'sparsity']) {
        new MutationObserver(() => {
          if (document.body.dataset.running === 'true') w.__redraws[id]!++;
        }).observe(document.getElementById(`${id}-chart`)!, { childList: true });
      }
    });
    await page.click('#start');
    await page.waitForFunction(() => document.querySelectorAll('#loss-chart polyline').length > 0, undefined, { timeout: 60_000, polling: 50 });
    const during = await chartHtml();
    expect(during.loss).not.toBe(before.loss);
    try {
      await page.waitForFunction(() => document.body.dataset.done !== undefined || document.querySelector('#status.error'), undefined, { timeout: 90_000, polling: 100 });
    } catch (e) {
      throw new Error(`training did not finish: ${(e as Error).message}\n${logs.join('\n')}`);
    }
    const status = await page.textContent('#status');
    expect(status, logs.join('\n')).toMatch(/^finished after 120 steps/);
    await page.waitForTimeout(300); // the last redraw is throttled
    const after = await chartHtml();
    expect(after.loss).not.toBe(during.loss);
    expect(after.sparsity).not.toBe(before.sparsity);
    const redraws = await page.evaluate(() => (window as unknown as { __redraws: Record<string, number> }).__redraws);
    expect(redraws.loss, 'loss chart redraws during training').toBeGreaterThanOrEqual(3);
    expect(redraws.sparsity, 'sparsity chart redraws during training').toBeGreaterThanOrEqual(3);

    const facts = await page.evaluate(() => {
      const pts = (sel: string) => [...document.querySelectorAll(sel)].map((p) => (p.getAttribute('points') ?? '').trim().split(/\s+/).filter(Boolean).length);
      return {
        backend: document.getElementById('backend-name')!.textContent,
        adapter: document.getElementById('adapter')!.textContent,
        note: document.getElementById('backend-note')!.textContent,
        lossPoints: pts('#loss-chart polyline'),
        sparsityPoints: pts('#sparsity-chart polyline'),
        decisions: [...document.querySelectorAll('#sparsity-chart .decision')].map((d) => d.getAttribute('data-decision')),
        forecastPoints: pts('#forecast-chart polyline'),
        bars: document.querySelectorAll('#density-chart .density-bar').length,
        windowMax: Number((document.getElementById('window') as HTMLInputElement).max),
      };
    });
    console.log(`demo backend: ${facts.backend} ${facts.adapter} ${facts.note}`);
    // auto: WebGPU on a hardware adapter only; wasm on a software one (SwiftShader here) or with none, saying why.
    if (/swiftshader|llvmpipe|lavapipe/i.test(facts.adapter ?? '')) {
      expect(facts.backend).toBe('wasm');
      expect(facts.note).toMatch(/software renderer, slower than the wasm SIMD kernels: training on wasm/);
    } else if (/WebGPU unavailable/.test(facts.note ?? '')) {
      expect(facts.backend).toBe('wasm');
    } else {
      expect(facts.backend).toBe('webgpu');
      expect(facts.note).toBe('training on WebGPU (asynchronous reads)');
    }
    // train per step (120 points), train/val/test per epoch (2 each).
    expect(facts.lossPoints[0]).toBe(120);
    expect(facts.lossPoints.slice(1)).toEqual([2, 2, 2]);
    // PALS decides every 10 steps inside its update window (steps 10, 20, …, 110; 120 is past final_iter):
    // 11 decisions, each marked; the curve also has the start and epoch-end samples.
    expect(facts.decisions.length).toBe(11);
    for (const d of facts.decisions) expect(['shrink', 'expand', 'stable']).toContain(d);
    expect(facts.sparsityPoints.some((n) => n >= 11 + 3)).toBe(true);
    // history (seq_len 48), truth and forecast (pred_len 24).
    expect(facts.forecastPoints).toEqual([48, 24, 24]);
    expect(facts.bars).toBeGreaterThan(4);
    expect(facts.windowMax).toBeGreaterThan(100);

    // A different test window re-renders the forecast.
    const fc = await page.innerHTML('#forecast-chart');
    await page.$eval('#window', (el) => {
      const input = el as HTMLInputElement;
      input.value = '100';
      input.dispatchEvent(new Event('change'));
    });
    await page.waitForFunction((old) => document.querySelector('#forecast-chart')!.innerHTML !== old, fc, { timeout: 10_000 });
    expect(await page.textContent('#forecast-chart')).toContain('test window 100');
    // Axes in the data's units, as the report's: the column and what it measures, and what one step is.
    expect(await page.textContent('#forecast-chart')).toContain('OT: oil temperature (°C)');
    expect(await page.textContent('#forecast-chart')).toContain('time step (1 step = 1 h)');
  }, 150_000);

  it('exports the trained model as a model file whose forecast (inference entry) matches the page', async () => {
    ready();
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 20_000 }), page.click('#export')]);
    expect(download.suggestedFilename()).toBe('Transformer_ETTh1_pals.sc');
    const path = join(work, 'model.sc');
    await download.saveAs(path);
    const bytes = new Uint8Array(await readFile(path));
    const file = readModelFile(bytes);
    expect(file.config.model).toBe('Transformer');
    expect(file.config.cfg.seqLen).toBe(48);
    expect(file.config.scaler.columns.at(-1)).toBe('OT');

    // The page's last forecast (test window 100, after the last step) against the exported model's, in Node.
    const view = await page.evaluate(() => (window as unknown as { sparsecastDemo: { state: () => { forecast: { window: number; forecast: number[] } | null } } }).sparsecastDemo.state().forecast);
    expect(view?.window).toBe(100);
    const table = parseCsv(await readFile(join(root, 'data/ETTh1.csv'), 'utf8'));
    const borders = splitBorders('ETTh', table.rows, 48);
    const start = borders.test[0] + 100;
    const f = await loadForecaster(bytes);
    try {
      const y = f.forecast({ values: table.values.slice(start * table.cols, (start + 48) * table.cols), dates: table.dates.slice(start, start + 48) });
      const C = table.cols;
      const ot = Array.from({ length: 24 }, (_, t) => y[t * C + C - 1]!);
      const scale = Math.max(...view!.forecast.map(Math.abs));
      for (let t = 0; t < 24; t++) expect(Math.abs(ot[t]! - view!.forecast[t]!), `step ${t}`).toBeLessThan(1e-3 * scale);
    } finally {
      f.dispose();
    }
  });

  it('draws every chart (screenshot pixels inside each chart region)', async () => {
    ready();
    const png = join(work, 'demo.png');
    await page.screenshot({ path: png, fullPage: true });
    if (process.env.SPARSECAST_DEMO_SCREENSHOT) copyFileSync(png, process.env.SPARSECAST_DEMO_SCREENSHOT);
    const img = decodePng(new Uint8Array(await readFile(png)));
    for (const id of ['loss-chart', 'sparsity-chart', 'forecast-chart', 'density-chart']) {
      const box = await page.locator(`#${id} svg`).boundingBox();
      expect(box, id).not.toBeNull();
      const n = colouredPixels(img, box!);
      expect(n, `${id}: coloured pixels in its region`).toBeGreaterThan(150);
    }
    // The page background between the charts stays blank (the check is not fooled by a uniformly coloured page).
    expect(colouredPixels(img, { x: 0, y: img.height - 6, width: img.width, height: 6 })).toBe(0);
  });

  it('stops a run on request (the page stays responsive while the worker trains)', async () => {
    ready();
    await page.fill('#epochs', '50');
    await page.click('#start');
    await page.waitForFunction(() => /step [1-9]/.test(document.getElementById('status')!.textContent ?? ''), undefined, { timeout: 30_000, polling: 50 });
    const t0 = Date.now();
    // A 10 ms timer for a second: training on the main thread would hold it for whole steps (no tick at all
    // for the run, or none between steps); in the worker it ticks ~100 times. The bound is loose (a quarter)
    // and the window long because on a 2-core machine the worker, Chromium's other processes and the test run
    // share the cores: a 300 ms window once saw 10 ticks there while nothing blocked the page.
    const ticks = await page.evaluate(() => new Promise<number>((resolve) => {
      let n = 0;
      const id = setInterval(() => n++, 10);
      setTimeout(() => { clearInterval(id); resolve(n); }, 1000);
    }));
    expect(ticks, 'main-thread timer ticks in 1 s while training').toBeGreaterThan(25);
    await page.click('#stop');
    await page.waitForFunction(() => /^stopped after/.test(document.getElementById('status')!.textContent ?? ''), undefined, { timeout: 30_000, polling: 50 });
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(await page.isEnabled('#start')).toBe(true);
  }, 60_000);

  /** Train with the current form on a backend; the per-step losses and what the header says. */
  async function trainOn(backend: string): Promise<{ losses: number[]; name: string | null; note: string | null }> {
    await page.selectOption('#backend', backend);
    await page.evaluate(() => delete document.body.dataset.done);
    await page.click('#start');
    await page.waitForFunction(() => document.body.dataset.done !== undefined || document.querySelector('#status.error'), undefined, { timeout: 60_000, polling: 100 });
    const status = (await page.textContent('#status')) ?? '';
    expect(status, logs.join('\n')).toMatch(/^finished after 6 steps/);
    const losses = await page.evaluate(() => (window as unknown as { sparsecastDemo: { state: () => { steps: { loss: number }[] } } }).sparsecastDemo.state().steps.map((s) => s.loss));
    return { losses, name: await page.textContent('#backend-name'), note: await page.textContent('#backend-note') };
  }

  it('trains dense and PALS on WebGPU (async reads) with the wasm run\'s losses', async () => {
    ready();
    await page.selectOption('#model', 'DLinear');
    await page.selectOption('#method', 'dense');
    await page.fill('#epochs', '1');
    await page.fill('#steps', '6');
    const gpu = await trainOn('webgpu');
    expect(gpu.name, gpu.note ?? '').toBe('webgpu');
    expect(await page.textContent('#adapter')).toMatch(/adapter: \S/);
    const cpu = await trainOn('wasm');
    expect(cpu.name).toBe('wasm');
    expect(gpu.losses).toHaveLength(6);
    gpu.losses.forEach((l, i) => expect(Math.abs(l - cpu.losses[i]!) / Math.abs(cpu.losses[i]!), `step ${i + 1}`).toBeLessThan(1e-3));
    await page.fill('#update-freq', '2');
    await page.selectOption('#method', 'pals');
    const sparseGpu = await trainOn('webgpu');
    expect(sparseGpu.name, sparseGpu.note ?? '').toBe('webgpu');
    const sparseCpu = await trainOn('wasm');
    sparseGpu.losses.forEach((l, i) => expect(Math.abs(l - sparseCpu.losses[i]!) / Math.abs(sparseCpu.losses[i]!), `PALS step ${i + 1}`).toBeLessThan(1e-3));
  }, 180_000);
});

// Axis ticks people read: 1-2-5 × 10ⁿ steps, labels without float noise, a one-point series drawn as a point,
// no title that starts with ": ".
import { describe, expect, it } from 'vitest';
import { niceStep, niceTicks, tickLabel, titled } from '../src/plot/ticks.ts';
import { lineChart } from '../src/cli/svg-plot.ts';
import { sparsityChartSvg } from '../src/web/charts.ts';
import { sparsityCurveSvg } from '../src/cli/sparsity-plots.ts';
import type { UpdateRecord } from '../src/sparse/controller.ts';

const mantissa = (step: number) => +(step / 10 ** Math.floor(Math.log10(step) + 1e-9)).toFixed(9);

describe('nice ticks', () => {
  it('steps are 1, 2 or 5 × 10ⁿ and cover the range with about five ticks', () => {
    for (const [lo, hi] of [[0, 1], [0.3127, 0.9481], [-3.2, 17.9], [1e-5, 3e-5], [1234, 98765], [0.8791, 0.8794], [-0.02, 0.013]] as const) {
      const t = niceTicks(lo, hi);
      expect([1, 2, 5, 10]).toContain(mantissa(t.step));
      expect(t.lo).toBeLessThanOrEqual(lo);
      expect(t.hi).toBeGreaterThanOrEqual(hi);
      expect(t.values.length).toBeGreaterThanOrEqual(3);
      expect(t.values.length).toBeLessThanOrEqual(9);
      for (const v of t.values) expect(Math.abs(v / t.step - Math.round(v / t.step))).toBeLessThan(1e-6);
    }
    expect(niceStep(10)).toBe(2);
    expect(niceStep(1)).toBe(0.2);
    expect(niceStep(0.37)).toBe(0.1);
  });

  it('labels carry just the digits of their step', () => {
    const t = niceTicks(0.1, 0.7);
    expect(t.values.map((v) => tickLabel(v, t.step))).toEqual(['0.1', '0.2', '0.3', '0.4', '0.5', '0.6', '0.7']);
    expect(tickLabel(0.30000000000000004, 0.1)).toBe('0.3');
    expect(tickLabel(2000, 500)).toBe('2000');
    expect(tickLabel(-0, 1)).toBe('0');
  });

  it('a constant series gets a window around its value', () => {
    const t = niceTicks(5, 5);
    expect(t.lo).toBeLessThan(5);
    expect(t.hi).toBeGreaterThan(5);
  });

  it('titles never start with ": "', () => {
    expect(titled('', 'loss')).toBe('loss');
    expect(titled('  ', 'loss')).toBe('loss');
    expect(titled('Transformer', 'loss')).toBe('Transformer: loss');
  });
});

describe('charts', () => {
  it('line chart ticks are nice numbers', () => {
    const svg = lineChart('loss', [{ name: 'train', values: [0.9123, 0.71, 0.6402], x: [1, 2, 3], color: '#000' }]);
    const ys = [...svg.matchAll(/class="tick-y">([^<]+)</g)].map((m) => m[1]!);
    const xs = [...svg.matchAll(/class="tick-x">([^<]+)</g)].map((m) => m[1]!);
    expect(ys).toEqual(['0.60', '0.65', '0.70', '0.75', '0.80', '0.85', '0.90', '0.95']); // one decimal count per axis
    expect(xs).toEqual(['1', '2', '3']);
  });

  it('a single-point series is drawn as a point, not an invisible line', () => {
    const svg = lineChart('loss', [{ name: 'val', values: [0.5], x: [1], color: '#f00' }]);
    expect(svg).toMatch(/<circle [^>]*class="point"/);
    expect(svg).not.toMatch(/<polyline/);
  });

  it('a points series (a study\'s scatter) draws one marker per finite point and no line', () => {
    const svg = lineChart('frontier', [{ name: 'block', values: [1.02, NaN, 1.1], x: [1.4, 2, 2.9], color: '#00f', points: true }]);
    expect(svg.match(/<circle [^>]*class="point"/g)).toHaveLength(2);
    expect(svg).not.toMatch(/<polyline/);
  });

  it('sparsity chart steps are whole 1-2-5 numbers', () => {
    const svg = sparsityChartSvg('s', [{ step: 0, sparsity: 0, decision: null, val_loss: null }, { step: 130, sparsity: 0.4, decision: 'shrink', val_loss: 0.5 }]);
    const xs = [...svg.matchAll(/class="tick-x">([^<]+)</g)].map((m) => m[1]!);
    expect(xs).toEqual(['0', '20', '40', '60', '80', '100', '120']);
  });

  it('validation loss gets 1-2-5 ticks on the right axis of both sparsity charts (report, demo and train\'s sparsity.svg)', () => {
    const losses = [0.8731, 0.6412, 0.7033, 0.5127];
    const web = sparsityChartSvg('s', losses.map((v, i) => ({ step: 10 * (i + 1), sparsity: 0.1 * i, decision: 'stable', val_loss: v })));
    const rec = (v: number, i: number): UpdateRecord => ({ step: 10 * (i + 1), epoch: 1, zeta: 0, decision: 'stable', val_loss: v, L_best: null, S_best: null, sparsity: 0.1 * i, masked_sparsity: 0.1 * i, layers: {} });
    const cli = sparsityCurveSvg('s', losses.map(rec));
    for (const svg of [web, cli]) {
      const ticks = [...svg.matchAll(/class="tick-loss">([^<]+)</g)].map((m) => m[1]!);
      expect(ticks).toEqual(['0.5', '0.6', '0.7', '0.8', '0.9']);
    }
    const xs = [...cli.matchAll(/class="tick-x">([^<]+)</g)].map((m) => m[1]!);
    expect(xs).toEqual(['0', '10', '20', '30', '40']);
    const ys = [...cli.matchAll(/class="tick-y">([^<]+)</g)].map((m) => m[1]!);
    expect(ys).toEqual(['0.0', '0.2', '0.4', '0.6', '0.8', '1.0']);
  });
});

/** Moved to src/plot/line-chart.ts (the demo uses it too, and must not import from src/cli); kept for imports. */
export { lineChart, type Series } from '../plot/line-chart.ts';

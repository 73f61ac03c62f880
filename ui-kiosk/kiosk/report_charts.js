// One chart of the Reports screen: uPlot (vendored, /ui/vendor/uplot/) drawing a few
// series over named categories (days, ISO weeks, scores). The numbers are always in the
// table beside it; the chart itself is an image with a one-line text alternative.
import uPlot from '/ui/vendor/uplot/uPlot.esm.js';

export const COLORS = ['#7dd3fc', '#fbbf24', '#4ade80', '#f87171', '#c4b5fd'];
const WHOLE = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];
const AXIS = { stroke: '#d1d5db', grid: { stroke: '#374151', width: 1 }, ticks: { stroke: '#374151', width: 1 } };

function width(el) {
  return Math.max(280, Math.floor(el.clientWidth || el.parentElement?.clientWidth || 600));
}

// labels: x categories; series: [{label, values, bars?}]; format: y value → text;
// whole: counts, so the y axis steps by whole numbers.
export function drawChart(el, { labels, series, format = String, whole = false, height = 220 }) {
  const font = `${Math.round(parseFloat(getComputedStyle(el).fontSize) * 0.7) || 13}px system-ui, sans-serif`;
  const every = Math.max(1, Math.ceil(labels.length / 12));   // at most ~12 labels under the chart
  const opts = {
    width: width(el),
    height,
    legend: { show: false },
    cursor: { show: false },
    select: { show: false },
    scales: { x: { time: false, range: [-0.6, labels.length - 0.4] }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
    axes: [
      { ...AXIS, font, splits: () => labels.map((_, i) => i).filter((i) => i % every === 0), values: (u, splits) => splits.map((i) => labels[i] ?? '') },
      { ...AXIS, font, size: 64, values: (u, splits) => splits.map((v) => format(v)), ...(whole ? { incrs: WHOLE } : {}) },
    ],
    series: [{}, ...series.map((s, i) => ({
      label: s.label,
      stroke: COLORS[i % COLORS.length],
      width: 3,
      fill: s.bars ? COLORS[i % COLORS.length] : undefined,
      points: { show: !s.bars, size: 8 },
      spanGaps: false,
      paths: s.bars ? uPlot.paths.bars({ size: [0.7, 64], align: 0 }) : undefined,
    }))],
  };
  const data = [labels.map((_, i) => i), ...series.map((s) => s.values.map((v) => (v === null || v === undefined ? null : v)))];
  el.replaceChildren();
  const plot = new uPlot(opts, data, el);
  plot.fitTo = () => plot.setSize({ width: width(el), height });
  return plot;
}

// The chart's legend, as text: colour swatch and series name (the colours alone say nothing).
export function legend(series) {
  const ul = document.createElement('ul');
  ul.className = 'report-legend';
  series.forEach((s, i) => {
    const li = document.createElement('li');
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = COLORS[i % COLORS.length];
    li.append(swatch, s.label);
    ul.append(li);
  });
  return ul;
}

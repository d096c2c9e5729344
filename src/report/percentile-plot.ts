import type { PercentilePoint } from '../domain/shadow.js';
import { escapeXml, n } from './svg.js';

export interface PlotSeries {
  name: string;
  colour: string;
  points: readonly PercentilePoint[];
}

const W = 640;
const H = 300;
const M = { left: 56, right: 36, top: 16, bottom: 44 };
const TICKS = [0, 50, 90, 99, 99.9, 99.99];

/** The x position of a percentile: "nines" scale, so the tail gets as much room as the body. */
function nines(percentile: number): number {
  return Math.log10(1 / Math.max(1e-4, 1 - percentile / 100));
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const mag = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * mag).find((c) => c >= v) ?? 10 * mag;
}

/**
 * Latency by percentile, one line per version, with optional budget lines: the
 * picture HdrHistogram users read, where a queue or a stall shows as a cliff in
 * the tail that an average would hide.
 */
export function percentilePlot(
  series: readonly PlotSeries[],
  budgets: ReadonlyArray<{ label: string; ms: number }> = [],
): string {
  const xMax = nines(99.99);
  const top = niceMax(
    Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.ms)), ...budgets.map((b) => b.ms)),
  );
  const x = (p: number) => M.left + (Math.min(nines(p), xMax) / xMax) * (W - M.left - M.right);
  const y = (ms: number) => H - M.bottom - (ms / top) * (H - M.top - M.bottom);
  const parts: string[] = [];
  parts.push(
    `<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="#fafafa" stroke="#ccc"/>`,
  );
  for (let k = 0; k <= 4; k++) {
    const v = (top * k) / 4;
    parts.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${n(y(v))}" y2="${n(y(v))}" stroke="#eee"/>`,
      `<text x="${M.left - 6}" y="${n(y(v) + 4)}" text-anchor="end" font-size="11">${n(v)}</text>`,
    );
  }
  for (const p of TICKS) {
    parts.push(
      `<line x1="${n(x(p))}" x2="${n(x(p))}" y1="${M.top}" y2="${H - M.bottom}" stroke="#eee"/>`,
      `<text x="${n(x(p))}" y="${H - M.bottom + 16}" text-anchor="middle" font-size="11">p${p}</text>`,
    );
  }
  parts.push(
    `<text x="${(W + M.left) / 2}" y="${H - 6}" text-anchor="middle" font-size="12">percentile</text>`,
    `<text x="14" y="${H / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 14 ${H / 2})">latency (ms)</text>`,
  );
  for (const b of budgets) {
    parts.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${n(y(b.ms))}" y2="${n(y(b.ms))}" stroke="#c00" stroke-dasharray="6 4"/>`,
      `<text x="${W - M.right - 4}" y="${n(y(b.ms) - 4)}" text-anchor="end" font-size="11" fill="#c00">${escapeXml(b.label)}</text>`,
    );
  }
  series.forEach((s, k) => {
    const pts = s.points.map((p) => `${n(x(p.percentile))},${n(y(p.ms))}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${escapeXml(s.colour)}" stroke-width="2" points="${pts}"/>`);
    const ly = M.top + 14 + k * 16;
    parts.push(
      `<rect x="${M.left + 10}" y="${ly - 9}" width="12" height="4" fill="${escapeXml(s.colour)}"/>`,
      `<text x="${M.left + 28}" y="${ly}" font-size="12">${escapeXml(s.name)}</text>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="latency by percentile">${parts.join('')}</svg>`;
}

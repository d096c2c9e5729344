import type { FairnessReport, GroupFigures } from '../domain/fairness.js';
import { escapeXml, n } from './svg.js';

export interface ChartVersion {
  /** How the legend names it, e.g. "candidate v2" or "stable v1". */
  label: string;
  metrics: FairnessReport;
}

const W = 640;
const LABEL_W = 190;
const VALUE_W = 56;
const PLOT_W = W - LABEL_W - VALUE_W - 16;
const BAR_H = 13;
const TOP = 34;
const AXIS_H = 42;
const TICKS = [0, 0.2, 0.4, 0.6, 0.8, 1];
const COLOURS = { candidate: '#1f6fb4', stable: '#a8a8a8' } as const;

const x = (rate: number) => LABEL_W + Math.max(0, Math.min(1, rate)) * PLOT_W;

function groupLabel(g: GroupFigures | undefined): string {
  if (!g) return '';
  return g.count > 0 && !g.gated ? `n=${g.count}, not gated` : `n=${g.count}`;
}

/**
 * Selection rate per group, one block per sensitive attribute, candidate and stable
 * bars side by side: the picture behind the parity ratio, where a group the model
 * stopped selecting shows as a short bar. Horizontal, so long group names fit. A
 * dashed line marks four fifths of the candidate's highest rate in each block (over
 * the groups large enough to gate): a gated candidate bar left of it breaks the
 * four-fifths rule. Self-contained SVG, no script.
 */
export function selectionRateChart(input: { candidate: ChartVersion; stable?: ChartVersion | null }): string {
  const versions = [
    { kind: 'candidate' as const, ...input.candidate },
    ...(input.stable ? [{ kind: 'stable' as const, ...input.stable }] : []),
  ];
  const attributes = [...new Set(versions.flatMap((v) => v.metrics.attributes.map((a) => a.attribute)))];
  const body: string[] = [];
  let y = TOP;
  for (const attribute of attributes) {
    const per = versions.map((v) => ({
      ...v,
      a: v.metrics.attributes.find((a) => a.attribute === attribute),
    }));
    const names = [...new Set(per.flatMap((v) => v.a?.groups.map((g) => g.group) ?? []))].sort((p, q) =>
      p < q ? -1 : p > q ? 1 : 0,
    );
    const blockTop = y;
    body.push(`<text x="8" y="${y + 13}" font-size="13" font-weight="bold">${escapeXml(attribute)}</text>`);
    y += 20;
    for (const name of names) {
      const rowTop = y;
      const candidateGroup = per[0]!.a?.groups.find((g) => g.group === name);
      for (const v of per) {
        const g = v.a?.groups.find((gg) => gg.group === name);
        const rate = g?.selectionRate ?? null;
        if (rate === null) {
          body.push(
            `<text x="${LABEL_W + 4}" y="${y + BAR_H - 3}" font-size="10" fill="#888">${escapeXml(`${v.label}: no rows`)}</text>`,
          );
        } else {
          const tip = `${attribute}=${name}, ${v.label}: ${rate.toFixed(2)} (${g!.selected} of ${g!.count} selected)`;
          body.push(
            `<rect class="bar ${v.kind}" data-attribute="${escapeXml(attribute)}" data-group="${escapeXml(name)}" ` +
              `x="${LABEL_W}" y="${y}" width="${n(x(rate) - LABEL_W)}" height="${BAR_H}" fill="${COLOURS[v.kind]}">` +
              `<title>${escapeXml(tip)}</title></rect>`,
            `<text x="${n(x(rate) + 4)}" y="${y + BAR_H - 2}" font-size="11">${rate.toFixed(2)}</text>`,
          );
        }
        y += BAR_H + 2;
      }
      const mid = (rowTop + y - 2) / 2;
      body.push(
        `<text x="${LABEL_W - 8}" y="${n(mid)}" text-anchor="end" font-size="12">${escapeXml(name)}</text>`,
        `<text x="${LABEL_W - 8}" y="${n(mid + 12)}" text-anchor="end" font-size="10" fill="#666">${escapeXml(groupLabel(candidateGroup))}</text>`,
      );
      y += 10;
    }
    // Over the groups large enough to gate, as the bias gate judges them.
    const top = per[0]!.a?.gated.selectionRate.max?.value ?? 0;
    if (top > 0 && (per[0]!.a?.gated.groups ?? 0) > 1) {
      const fx = n(x(0.8 * top));
      body.push(
        `<line x1="${fx}" x2="${fx}" y1="${blockTop + 18}" y2="${y - 8}" stroke="#c00" stroke-dasharray="4 3"/>`,
        `<text x="${fx}" y="${blockTop + 13}" text-anchor="middle" font-size="10" fill="#c00">4/5 of highest</text>`,
      );
    }
    y += 6;
  }
  if (attributes.length === 0) {
    body.push(
      `<text x="${LABEL_W}" y="${y + 14}" font-size="12" fill="#888">no sensitive attributes measured</text>`,
    );
    y += 24;
  }

  const plotBottom = y;
  const H = plotBottom + AXIS_H;
  const grid: string[] = [];
  for (const t of TICKS) {
    grid.push(
      `<line x1="${n(x(t))}" x2="${n(x(t))}" y1="${TOP}" y2="${plotBottom}" stroke="${t === 0 ? '#888' : '#e4e4e4'}"/>`,
      `<text x="${n(x(t))}" y="${plotBottom + 14}" text-anchor="middle" font-size="11">${t.toFixed(1)}</text>`,
    );
  }
  grid.push(
    `<line x1="${LABEL_W}" x2="${LABEL_W + PLOT_W}" y1="${plotBottom}" y2="${plotBottom}" stroke="#888"/>`,
    `<text x="${n(LABEL_W + PLOT_W / 2)}" y="${H - 8}" text-anchor="middle" font-size="12">selection rate (share of rows predicted positive)</text>`,
  );
  const legend = versions.map((v, k) => {
    const lx = LABEL_W + k * 170;
    return (
      `<rect x="${lx}" y="8" width="12" height="12" fill="${COLOURS[v.kind]}"/>` +
      `<text x="${lx + 18}" y="18" font-size="12">${escapeXml(v.label)}</text>`
    );
  });
  const aria = `selection rate per group, ${versions.map((v) => v.label).join(' against ')}`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" ` +
    `role="img" aria-label="${escapeXml(aria)}" font-family="sans-serif">` +
    `<title>${escapeXml(aria)}</title>${grid.join('')}${legend.join('')}${body.join('')}</svg>`
  );
}

import type { BiasJudgement } from '../domain/bias-gate.js';
import type { FairnessReport } from '../domain/fairness.js';
import { htmlTable, type RenderedSection } from './release-report.js';
import { selectionRateChart } from './selection-rate-chart.js';
import { escapeXml } from './svg.js';

export interface BiasSectionInput {
  candidate: { version: string; metrics: FairnessReport };
  stable: { version: string; metrics: FairnessReport } | null;
  judgement: BiasJudgement;
  /** Where the sensitive attributes came from, e.g. "Feast service arrests_sensitive". */
  source: string;
}

const rate = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v.toFixed(3));

/** Rows of the per-group table: attribute, group, n, candidate rate, stable rate, TPR, FPR. */
function groupRows(input: BiasSectionInput): string[][] {
  const rows: string[][] = [];
  for (const a of input.candidate.metrics.attributes) {
    const stable = input.stable?.metrics.attributes.find((s) => s.attribute === a.attribute);
    for (const g of a.groups) {
      const sg = stable?.groups.find((s) => s.group === g.group);
      rows.push([
        a.attribute,
        g.group,
        `${g.count}${g.gated ? '' : ' (not gated)'}`,
        rate(g.selectionRate),
        input.stable ? rate(sg?.selectionRate) : '—',
        rate(g.truePositiveRate),
        rate(g.falsePositiveRate),
      ]);
    }
    // One gated group has nothing to be compared with: its "ratio" of 1 says nothing.
    const ratio = (x: typeof a | undefined) =>
      x && x.gated.groups >= 2 ? rate(x.gated.demographicParityRatio) : '—';
    rows.push([
      a.attribute,
      'parity ratio (gated groups)',
      '',
      ratio(a),
      input.stable ? ratio(stable) : '—',
      a.gated.equalizedOddsDifference === null ? '' : `EOD ${rate(a.gated.equalizedOddsDifference)}`,
      '',
    ]);
  }
  return rows;
}

const HEADERS = ['attribute', 'group', 'n', 'selection rate', 'stable', 'TPR', 'FPR'];

/** The bias gate's part of the release report: verdict, findings, per-group table and chart. */
export function biasSection(input: BiasSectionInput): RenderedSection {
  const j = input.judgement;
  const verdict = `**${j.verdict.toUpperCase()}** — ${j.headline ?? 'every gated group is within the limits.'}`;
  const rows = groupRows(input);
  const intro =
    `Predictions of candidate ${input.candidate.version}` +
    (input.stable ? ` and stable ${input.stable.version}` : '') +
    ` on ${input.candidate.metrics.rows} replayed rows, joined with the sensitive attributes from ${input.source}` +
    (input.candidate.metrics.labelled
      ? '; true labels from the held-out sample.'
      : '; no labels (TPR/FPR not measured).');
  const markdown = [
    verdict,
    '',
    intro,
    '',
    ...j.findings.map((f) => `- ${f.level}: ${f.sentence}`),
    ...j.notes.map((n) => `- note: ${n}`),
    '',
    `| ${HEADERS.join(' | ')} |`,
    `|${HEADERS.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
  const html = [
    `<p class="verdict ${j.verdict}"><b>${j.verdict.toUpperCase()}</b> ${escapeXml(j.headline ?? 'every gated group is within the limits.')}</p>`,
    `<p>${escapeXml(intro)}</p>`,
    j.findings.length + j.notes.length > 0
      ? `<ul>${j.findings.map((f) => `<li class="${f.level}">${escapeXml(f.sentence)}</li>`).join('')}${j.notes
          .map((n) => `<li>${escapeXml(n)}</li>`)
          .join('')}</ul>`
      : '',
    selectionRateChart({
      candidate: { label: `candidate ${input.candidate.version}`, metrics: input.candidate.metrics },
      stable: input.stable
        ? { label: `stable ${input.stable.version}`, metrics: input.stable.metrics }
        : null,
    }),
    htmlTable(HEADERS, rows),
  ].join('\n');
  return { title: 'Bias', markdown, html };
}

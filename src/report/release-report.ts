import type { ShadowBudgets, ShadowJudgement } from '../domain/shadow-gate.js';
import type { Agreement, VersionMeasure } from '../domain/shadow.js';
import type { Sizing } from '../domain/sizing.js';
import { percentilePlot } from './percentile-plot.js';
import { escapeXml } from './svg.js';

export interface ShadowSection {
  traffic: {
    /** "live capture" or "package sample". */
    source: string;
    file: string;
    /** Requests in the sample; the replay goes through them in order, as often as the window takes. */
    requests: number;
    labelled: number;
    rate: number;
    rateWhy: string;
    durationMs: number;
    warmupMs: number;
  };
  /** The host's measurement queue: the slot taken, and how long the release waited for it. */
  queue?: { slot: number; waitedMs: number };
  /** CPUs each side ran on (null: not pinned). */
  pinning: { candidate: string | null; stable: string | null; generator: string | null };
  achievedRate: number;
  sendLagP99Ms: number;
  candidate: VersionMeasure;
  stable: VersionMeasure | null;
  agreement: Agreement | null;
  budgets: ShadowBudgets;
  judgement: ShadowJudgement;
  /** Replicas the version will serve with, and why (absent in reports from before sizing). */
  sizing?: Sizing;
}

/** A section another stage adds (the bias gate): already rendered, in both forms. */
export interface RenderedSection {
  title: string;
  markdown: string;
  html: string;
}

export interface ReleaseReport {
  model: string;
  version: string;
  generatedAt: string;
  shadow: ShadowSection | null;
  sections: RenderedSection[];
}

const CANDIDATE = '#1f6feb';
const STABLE = '#8b949e';

const f1 = (v: number) => v.toFixed(1);
const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)} %`);
const usd = (v: number | null) => (v === null ? '—' : `$${v.toFixed(3)}`);

function limitText(metric: string, limit: number): string {
  if (metric.startsWith('error rate')) return pct(limit);
  if (metric === 'cost') return usd(limit);
  return `${f1(limit)} ms`;
}

function valueText(metric: string, value: number): string {
  return limitText(metric, value);
}

/** Rows of the per-version table: [label, candidate, stable]. */
function versionRows(c: VersionMeasure, s: VersionMeasure | null): string[][] {
  const both = (fn: (m: VersionMeasure) => string) => [fn(c), s ? fn(s) : '—'];
  const acc = (m: VersionMeasure) =>
    m.accuracy ? `${(m.accuracy.correct / m.accuracy.labelled).toFixed(3)} (${m.accuracy.labelled})` : '—';
  const res = (fn: (r: NonNullable<VersionMeasure['resources']>) => string) => (m: VersionMeasure) =>
    m.resources ? fn(m.resources) : '—';
  return [
    ['requests', ...both((m) => String(m.sent))],
    ['errors', ...both((m) => `${m.errors} (${pct(m.errorRate)})`)],
    ['p50', ...both((m) => `${f1(m.latency.p50)} ms`)],
    ['p90', ...both((m) => `${f1(m.latency.p90)} ms`)],
    ['p99', ...both((m) => `${f1(m.latency.p99)} ms`)],
    ['p99.9', ...both((m) => `${f1(m.latency.p999)} ms`)],
    ['max', ...both((m) => `${f1(m.latency.max)} ms`)],
    ['CPU', ...both(res((r) => `${r.cpuSeconds.toFixed(2)} s over ${Math.round(r.seconds)} s`))],
    ['memory mean / peak', ...both(res((r) => `${Math.round(r.memMeanMB)} / ${Math.round(r.memPeakMB)} MB`))],
    ['cost per million', ...both((m) => usd(m.costPerMillionUsd))],
    ['accuracy (held-out)', ...both(acc)],
  ];
}

/** The window's requests, not the sample's: a window longer than the sample repeats it, a shorter one takes its start. */
/** "3 replicas for a 120 req/s peak … , $0.41 per million predictions" */
export function servingLine(s: ShadowSection): string {
  const cost = s.candidate.costPerMillionUsd;
  return `${s.sizing!.line}${cost !== null ? `, $${cost.toFixed(2)} per million predictions` : ''}`;
}

function replayed(s: ShadowSection): string {
  return `${s.candidate.sent} request${s.candidate.sent === 1 ? '' : 's'} per version`;
}

function queueText(q: ShadowSection['queue']): string {
  if (!q) return '';
  return q.waitedMs >= 1000
    ? ` It waited ${(q.waitedMs / 1000).toFixed(1)} s for measurement slot ${q.slot}: another measurement had this host's cores.`
    : ` Measurement slot ${q.slot}, taken at once.`;
}

function pinningText(p: ShadowSection['pinning']): string {
  if (!p.candidate) return 'One CPU: models and load generator were not pinned apart.';
  const models =
    p.stable === null
      ? `Candidate on CPU ${p.candidate}`
      : p.stable === p.candidate
        ? `Candidate and stable share CPU ${p.candidate} (two CPUs here: they compete for it)`
        : `Candidate on CPU ${p.candidate}, stable on CPU ${p.stable}`;
  return `${models}; load generator on CPU ${p.generator ?? 'any (taskset missing)'}.`;
}

function headline(r: ReleaseReport): string {
  const j = r.shadow?.judgement;
  if (!j) return 'No shadow measurement.';
  if (j.verdict === 'pass') return 'Shadow evaluation passed every budget.';
  return j.headline ?? '';
}

export function renderMarkdown(r: ReleaseReport): string {
  const out: string[] = [`# Release report: ${r.model}/${r.version}`, '', `Generated ${r.generatedAt}.`, ''];
  const s = r.shadow;
  if (s) {
    const compared = s.stable
      ? `candidate and stable ${s.stable.version} interleaved`
      : 'the candidate alone (no stable version yet)';
    out.push(
      '## Shadow evaluation',
      '',
      `**${s.judgement.verdict.toUpperCase()}** — ${headline(r)}`,
      '',
      `Replayed ${replayed(s)} from the ${s.traffic.source} (\`${s.traffic.file}\`, ${s.traffic.requests} in all) at ${f1(s.traffic.rate)}/s ` +
        `(${s.traffic.rateWhy}; achieved ${f1(s.achievedRate)}/s) for ${s.traffic.durationMs / 1000} s after ${s.traffic.warmupMs / 1000} s of warm-up, ` +
        `${compared}. Latency counts from each request's intended send time.`,
      pinningText(s.pinning) + queueText(s.queue),
      ...(s.sizing ? ['', `**Serving:** ${servingLine(s)}.`] : []),
      '',
      '| gate | measured | limit | status |',
      '|---|---|---|---|',
      ...s.judgement.rows.map(
        (g) =>
          `| ${g.metric} | ${valueText(g.metric, g.value)} | ${limitText(g.metric, g.limit)} | ${g.status} |`,
      ),
      '',
      ...s.judgement.rows.filter((g) => g.sentence).map((g) => `- ${g.sentence}`),
      '',
      `| | candidate ${s.candidate.version} | ${s.stable ? `stable ${s.stable.version}` : 'stable'} |`,
      '|---|---|---|',
      ...versionRows(s.candidate, s.stable).map((row) => `| ${row.join(' | ')} |`),
      '',
    );
    if (s.agreement)
      out.push(
        `Agreement with stable on ${s.agreement.compared} predictions: same label ${pct(s.agreement.labelAgreement)}, ` +
          `mean absolute score difference ${s.agreement.meanAbsScoreDiff === null ? '—' : s.agreement.meanAbsScoreDiff.toFixed(4)}.`,
        '',
      );
    out.push('The HTML report (report.html, same folder) has the latency-by-percentile plot.', '');
  }
  for (const sec of r.sections) out.push(`## ${sec.title}`, '', sec.markdown, '');
  return out.join('\n');
}

export function htmlTable(headers: string[], rows: string[][]): string {
  const th = headers.map((h) => `<th>${escapeXml(h)}</th>`).join('');
  const body = rows.map((row) => `<tr>${row.map((c) => `<td>${escapeXml(c)}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
}

/** One self-contained page: inline CSS and SVG, no scripts, nothing fetched. */
export function renderHtml(r: ReleaseReport): string {
  const s = r.shadow;
  const body: string[] = [
    `<h1>Release report: ${escapeXml(r.model)}/${escapeXml(r.version)}</h1>`,
    `<p class="meta">Generated ${escapeXml(r.generatedAt)}</p>`,
  ];
  if (s) {
    const verdict = s.judgement.verdict;
    body.push(
      '<h2>Shadow evaluation</h2>',
      `<p class="verdict ${verdict}"><b>${verdict.toUpperCase()}</b> ${escapeXml(headline(r))}</p>`,
      htmlTable(
        ['gate', 'measured', 'limit', 'status'],
        s.judgement.rows.map((g) => [
          g.metric,
          valueText(g.metric, g.value),
          limitText(g.metric, g.limit),
          g.status,
        ]),
      ),
    );
    const sentences = s.judgement.rows.filter((g) => g.sentence);
    if (sentences.length)
      body.push(
        `<ul>${sentences.map((g) => `<li class="${g.status}">${escapeXml(g.sentence!)}</li>`).join('')}</ul>`,
      );
    const budgets = [
      ...(s.budgets.p99_ms ? [{ label: `p99 budget ${s.budgets.p99_ms} ms`, ms: s.budgets.p99_ms }] : []),
    ];
    body.push(
      '<h3>Latency by percentile</h3>',
      percentilePlot(
        [
          { name: `candidate ${s.candidate.version}`, colour: CANDIDATE, points: s.candidate.curve },
          ...(s.stable
            ? [{ name: `stable ${s.stable.version}`, colour: STABLE, points: s.stable.curve }]
            : []),
        ],
        budgets,
      ),
      '<h3>Candidate and stable</h3>',
      htmlTable(
        ['', `candidate ${s.candidate.version}`, s.stable ? `stable ${s.stable.version}` : 'stable'],
        versionRows(s.candidate, s.stable),
      ),
      `<p>${escapeXml(
        s.agreement
          ? `Agreement with stable on ${s.agreement.compared} predictions: same label ${pct(s.agreement.labelAgreement)}, mean absolute score difference ${s.agreement.meanAbsScoreDiff === null ? '—' : s.agreement.meanAbsScoreDiff.toFixed(4)}.`
          : 'No stable version to compare with: this is the model’s first release.',
      )}</p>`,
      `<p class="meta">${escapeXml(
        `Replayed ${replayed(s)} from the ${s.traffic.source} (${s.traffic.file}, ${s.traffic.requests} in all) at ${f1(s.traffic.rate)}/s (${s.traffic.rateWhy}; achieved ${f1(s.achievedRate)}/s, generator lag p99 ${f1(s.sendLagP99Ms)} ms) for ${s.traffic.durationMs / 1000} s after ${s.traffic.warmupMs / 1000} s of warm-up; ${s.stable ? 'candidate and stable interleaved' : 'candidate alone'}; latency from the intended send time. ` +
          pinningText(s.pinning) +
          queueText(s.queue),
      )}</p>`,
      ...(s.sizing ? [`<p class="serving"><b>Serving:</b> ${escapeXml(servingLine(s))}.</p>`] : []),
    );
  }
  for (const sec of r.sections) body.push(`<h2>${escapeXml(sec.title)}</h2>`, sec.html);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(`${r.model}/${r.version} release report`)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;max-width:900px;margin:24px auto;padding:0 16px;color:#1f2328}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:4px 10px;text-align:left}
th{background:#f6f8fa}.meta{color:#656d76;font-size:12px}
.verdict{padding:8px 12px;border-radius:6px}.verdict.pass{background:#dafbe1}.verdict.warn{background:#fff8c5}.verdict.fail{background:#ffebe9}
li.fail{color:#a40e26}li.warn{color:#7d4e00}
</style></head><body>
${body.join('\n')}
</body></html>
`;
}

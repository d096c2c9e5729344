import { describe, expect, it } from 'vitest';
import { judgeShadow, type ShadowJudgement } from '../../src/domain/shadow-gate.js';
import type { PercentilePoint, VersionMeasure } from '../../src/domain/shadow.js';
import { percentilePlot } from '../../src/report/percentile-plot.js';
import {
  renderHtml,
  renderMarkdown,
  type ReleaseReport,
  type ShadowSection,
} from '../../src/report/release-report.js';
import { escapeXml, n } from '../../src/report/svg.js';

const curve = (scale: number): PercentilePoint[] =>
  [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100].map((percentile) => ({
    percentile,
    ms: Math.round(scale * (1 + percentile / 20)),
  }));

function measure(o: Partial<VersionMeasure> = {}): VersionMeasure {
  return {
    version: '2',
    role: 'candidate',
    sent: 300,
    errors: 3,
    errorRate: 0.01,
    statuses: { '200': 297, '500': 3 },
    latency: { count: 300, mean: 120, p50: 110, p90: 180, p99: 250, p999: 262.5, max: 270 },
    curve: curve(40),
    resources: { cpuSeconds: 12.3456, memMeanMB: 511.6, memPeakMB: 600.2, seconds: 30.2, samples: 30 },
    costPerMillionUsd: 0.5,
    accuracy: { correct: 195, labelled: 300 },
    ...o,
  };
}

const P99_SENTENCE =
  'Your model is accurate (accuracy 0.65 on 300 held-out requests), but its p99 is 250 ms, 50 ms over ' +
  'the 200 ms budget. Optimize it: a smaller model or fewer features per prediction.';
const COST_SENTENCE = 'It costs $0.500 per million predictions, within 10 % of the $0.520 budget.';

const FAILED: ShadowJudgement = {
  verdict: 'fail',
  rows: [
    { metric: 'p99', value: 250, limit: 200, status: 'fail', sentence: P99_SENTENCE },
    { metric: 'p50', value: 110, limit: 150, status: 'pass', sentence: null },
    { metric: 'error rate', value: 0.01, limit: 0.02, status: 'pass', sentence: null },
    { metric: 'cost', value: 0.5, limit: 0.52, status: 'warn', sentence: COST_SENTENCE },
    { metric: 'p99 vs stable', value: 250, limit: 240, status: 'fail', sentence: 'Slower than stable.' },
    { metric: 'error rate vs stable', value: 0.01, limit: 0.015, status: 'pass', sentence: null },
  ],
  headline: P99_SENTENCE,
};

function shadow(o: Partial<ShadowSection> = {}): ShadowSection {
  return {
    traffic: {
      source: 'package sample',
      file: 'traffic-sample.jsonl',
      requests: 600, // a sample longer than the window: only its first 300 go out
      labelled: 300,
      rate: 10,
      rateWhy: 'policy rate 10/s (no live traffic recorded yet)',
      durationMs: 30_000,
      warmupMs: 3000,
    },
    pinning: { candidate: '1', stable: '1', generator: '0' },
    achievedRate: 9.98,
    sendLagP99Ms: 0.42,
    candidate: measure(),
    stable: measure({
      version: '1',
      role: 'stable',
      latency: { ...measure().latency, p99: 200 },
      curve: curve(30),
    }),
    agreement: { compared: 300, sameLabel: 285, labelAgreement: 0.95, meanAbsScoreDiff: 0.01234 },
    budgets: { p50_ms: 150, p99_ms: 200, error_rate: 0.02, cost_per_million_usd: 0.52 },
    judgement: FAILED,
    ...o,
  };
}

function report(o: Partial<ReleaseReport> = {}): ReleaseReport {
  return {
    model: 'arrests',
    version: '2',
    generatedAt: '2026-11-25T12:00:00.000Z',
    shadow: shadow(),
    sections: [],
    ...o,
  };
}

const count = (text: string, re: RegExp) => (text.match(new RegExp(re.source, `${re.flags}g`)) ?? []).length;

describe('renderMarkdown', () => {
  const md = renderMarkdown(report());

  it('titles the report with the release and when it was made', () => {
    expect(md.startsWith('# Release report: arrests/2\n\nGenerated 2026-11-25T12:00:00.000Z.\n')).toBe(true);
  });

  it('leads with the verdict and the headline sentence', () => {
    expect(md).toContain('## Shadow evaluation');
    expect(md).toContain(`**FAIL** — ${P99_SENTENCE}`);
  });

  it('has one gate table row per gate, each in its unit', () => {
    const lines = md.split('\n');
    const header = lines.indexOf('| gate | measured | limit | status |');
    expect(header).toBeGreaterThan(0);
    expect(lines.slice(header, header + 8)).toEqual([
      '| gate | measured | limit | status |',
      '|---|---|---|---|',
      '| p99 | 250.0 ms | 200.0 ms | fail |',
      '| p50 | 110.0 ms | 150.0 ms | pass |',
      '| error rate | 1.0 % | 2.0 % | pass |',
      '| cost | $0.500 | $0.520 | warn |',
      '| p99 vs stable | 250.0 ms | 240.0 ms | fail |',
      '| error rate vs stable | 1.0 % | 1.5 % | pass |',
    ]);
  });

  it('lists the sentence of every warning and failure, and only those', () => {
    expect(md).toContain(`- ${P99_SENTENCE}`);
    expect(md).toContain(`- ${COST_SENTENCE}`);
    expect(md).toContain('- Slower than stable.');
    expect(count(md, /^- /m)).toBe(3);
  });

  it('compares candidate and stable figures side by side', () => {
    expect(md).toContain('| | candidate 2 | stable 1 |');
    expect(md).toContain('| requests | 300 | 300 |');
    expect(md).toContain('| errors | 3 (1.0 %) | 3 (1.0 %) |');
    expect(md).toContain('| p99 | 250.0 ms | 200.0 ms |');
    expect(md).toContain('| p99.9 | 262.5 ms | 262.5 ms |');
    expect(md).toContain('| CPU | 12.35 s over 30 s | 12.35 s over 30 s |');
    expect(md).toContain('| memory mean / peak | 512 / 600 MB | 512 / 600 MB |');
    expect(md).toContain('| cost per million | $0.500 | $0.500 |');
    expect(md).toContain('| accuracy (held-out) | 0.650 (300) | 0.650 (300) |');
  });

  it('says how the traffic was replayed, the agreement with stable, and the pinning', () => {
    expect(md).toContain(
      'Replayed 300 requests per version from the package sample (`traffic-sample.jsonl`, 600 in all) at 10.0/s ' +
        '(policy rate 10/s (no live traffic recorded yet); achieved 10.0/s) for 30 s after 3 s of warm-up, ' +
        "candidate and stable 1 interleaved. Latency counts from each request's intended send time.",
    );
    expect(md).toContain(
      'Candidate and stable share CPU 1 (two CPUs here: they compete for it); load generator on CPU 0.',
    );
    expect(md).toContain(
      'Agreement with stable on 300 predictions: same label 95.0 %, mean absolute score difference 0.0123.',
    );
  });

  it('reads a first release: no stable, no agreement, nothing measured missing shown as a dash', () => {
    const first = renderMarkdown(
      report({
        shadow: shadow({
          stable: null,
          agreement: null,
          pinning: { candidate: null, stable: null, generator: null },
          candidate: measure({ resources: null, costPerMillionUsd: null, accuracy: null }),
        }),
      }),
    );
    expect(first).toContain('the candidate alone (no stable version yet)');
    expect(first).toContain('One CPU: models and load generator were not pinned apart.');
    expect(first).toContain('| | candidate 2 | stable |');
    expect(first).toContain('| p99 | 250.0 ms | — |');
    expect(first).toContain('| CPU | — | — |');
    expect(first).toContain('| cost per million | — | — |');
    expect(first).toContain('| accuracy (held-out) | — | — |');
    expect(first).not.toContain('Agreement with stable');
  });

  it('says a passing evaluation passed', () => {
    const passed = renderMarkdown(
      report({ shadow: shadow({ judgement: { verdict: 'pass', rows: [], headline: null } }) }),
    );
    expect(passed).toContain('**PASS** — Shadow evaluation passed every budget.');
  });

  it('has no shadow section without a measurement, and appends other stages’ sections', () => {
    const other = renderMarkdown(
      report({
        shadow: null,
        sections: [{ title: 'Bias gate', markdown: 'All groups within limits.', html: '' }],
      }),
    );
    expect(other).not.toContain('## Shadow evaluation');
    expect(other).toContain('## Bias gate\n\nAll groups within limits.\n');
  });

  it('carries the sentences judgeShadow writes', () => {
    const candidate = measure({ errors: 0, errorRate: 0, statuses: { '200': 300 } });
    const judgement = judgeShadow({
      candidate,
      stable: null,
      budgets: { p99_ms: 200 },
      limits: { max_p99_regression: 0.2, p99_slack_ms: 0, max_error_rate_increase: 0.01, near_miss: 0.1 },
    });
    const text = renderMarkdown(report({ shadow: shadow({ candidate, stable: null, judgement }) }));
    expect(text).toContain(`**FAIL** — ${P99_SENTENCE}`);
    expect(text).toContain('| p99 | 250.0 ms | 200.0 ms | fail |');
    expect(text).toContain(`- ${P99_SENTENCE}`);
  });
});

describe('renderHtml', () => {
  const html = renderHtml(report());

  it('is one self-contained page: no script, nothing fetched from elsewhere', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).toMatch(/<style>[^]*<\/style>/);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\son\w+\s*=/i); // no inline event handlers
    expect(html).not.toMatch(/\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\//i);
    expect(html).not.toMatch(/<link\b|@import|url\(/i);
  });

  it('leads with the verdict and the headline', () => {
    expect(html).toContain('<h1>Release report: arrests/2</h1>');
    expect(html).toContain(`<p class="verdict fail"><b>FAIL</b> ${P99_SENTENCE}</p>`);
  });

  it('has the gate table and the sentences, marked by status', () => {
    expect(html).toContain(
      '<tr><td>p99</td><td>250.0 ms</td><td>200.0 ms</td><td>fail</td></tr>' +
        '<tr><td>p50</td><td>110.0 ms</td><td>150.0 ms</td><td>pass</td></tr>' +
        '<tr><td>error rate</td><td>1.0 %</td><td>2.0 %</td><td>pass</td></tr>' +
        '<tr><td>cost</td><td>$0.500</td><td>$0.520</td><td>warn</td></tr>',
    );
    expect(html).toContain(`<li class="fail">${P99_SENTENCE}</li>`);
    expect(html).toContain(`<li class="warn">${COST_SENTENCE}</li>`);
    expect(count(html, /<li /)).toBe(3);
  });

  it('plots one line per version in an inline SVG, with the p99 budget as a line', () => {
    expect(count(html, /<svg\b/)).toBe(1);
    expect(count(html, /<polyline\b/)).toBe(2);
    expect(html).toContain('>candidate 2</text>');
    expect(html).toContain('>stable 1</text>');
    expect(html).toMatch(/<line [^>]*stroke="#c00" stroke-dasharray="6 4"\/>/);
    expect(html).toContain('>p99 budget 200 ms</text>');
  });

  it('plots the candidate alone on a first release, and no budget line without a p99 budget', () => {
    const first = renderHtml(
      report({
        shadow: shadow({ stable: null, agreement: null, budgets: { p50_ms: 150, error_rate: 0.02 } }),
      }),
    );
    expect(count(first, /<svg\b/)).toBe(1);
    expect(count(first, /<polyline\b/)).toBe(1);
    expect(first).not.toContain('stroke-dasharray');
    expect(first).not.toContain('p99 budget');
    expect(first).toContain('No stable version to compare with: this is the model’s first release.');
    expect(first).toContain('candidate alone');
  });

  it('says how the traffic was replayed and where the models ran', () => {
    expect(html).toContain(
      'Replayed 300 requests per version from the package sample (traffic-sample.jsonl, 600 in all) at 10.0/s ' +
        '(policy rate 10/s (no live traffic recorded yet); achieved 10.0/s, generator lag p99 0.4 ms) ' +
        'for 30 s after 3 s of warm-up; candidate and stable interleaved; latency from the intended send time. ' +
        'Candidate and stable share CPU 1 (two CPUs here: they compete for it); load generator on CPU 0.',
    );
    expect(html).toContain(
      'Agreement with stable on 300 predictions: same label 95.0 %, mean absolute score difference 0.0123.',
    );
  });

  it('escapes a hostile model name and version everywhere they appear', () => {
    const model = '<script>alert(1)</script>';
    const version = '"><img src=x onerror=alert(2)>';
    const hostile = renderHtml(
      report({
        model,
        version,
        shadow: shadow({
          candidate: measure({ version }),
          stable: measure({ version: `</title><script>x()</script>`, role: 'stable', curve: curve(30) }),
          traffic: { ...shadow().traffic, file: '<b>sample</b>.jsonl', rateWhy: '<i>why</i>' },
          judgement: { ...FAILED, headline: `stable ${model} & co`, rows: [] },
        }),
        sections: [{ title: '<u>Bias</u>', markdown: '', html: '<p>rendered by the bias gate</p>' }],
      }),
    );
    expect(hostile).not.toMatch(/<script/i);
    expect(hostile).not.toMatch(/<img/i);
    expect(hostile).not.toMatch(/<\/title><script/);
    for (const tag of ['<b>sample</b>', '<i>why</i>', '<u>Bias</u>']) expect(hostile).not.toContain(tag);
    expect(hostile).toContain('<h1>Release report: &lt;script&gt;alert(1)&lt;/script&gt;/&quot;&gt;&lt;img');
    expect(hostile).toContain(`<title>${escapeXml(`${model}/${version} release report`)}</title>`);
    expect(hostile).toContain(`>candidate ${escapeXml(version)}</text>`);
    expect(hostile).toContain(`<th>candidate ${escapeXml(version)}</th>`);
    expect(hostile).toContain('stable &lt;script&gt;alert(1)&lt;/script&gt; &amp; co');
    expect(hostile).toContain('<h2>&lt;u&gt;Bias&lt;/u&gt;</h2>');
    // Another stage's section is already rendered HTML: it goes in as it is.
    expect(hostile).toContain('<p>rendered by the bias gate</p>');
  });

  it('has no shadow section without a measurement', () => {
    const none = renderHtml(report({ shadow: null }));
    expect(none).not.toContain('Shadow evaluation');
    expect(none).not.toContain('<svg');
    expect(none).toMatch(/<\/body><\/html>\n$/);
  });
});

describe('percentilePlot', () => {
  // The plot area: x from 56 to 624, y from 256 (0 ms) up to 16 (the top of the scale).
  const points = (svg: string) =>
    [...svg.matchAll(/<polyline [^>]*points="([^"]*)"/g)].map((m) =>
      m[1]!.split(' ').map((xy) => xy.split(',').map(Number)),
    );

  it('places percentiles on a nines scale and latency on a nice linear scale', () => {
    const svg = percentilePlot([
      {
        name: 'candidate',
        colour: '#1f6feb',
        points: [
          { percentile: 0, ms: 0 },
          { percentile: 90, ms: 100 },
          { percentile: 99, ms: 200 },
          { percentile: 99.99, ms: 250 },
          { percentile: 100, ms: 250 },
        ],
      },
    ]);
    const [line] = points(svg);
    // 250 ms is already a nice maximum; 1, 2 and 4 nines are a quarter, half and all of the width.
    expect(line).toEqual([
      [56, 256],
      [193, 160],
      [330, 64],
      [604, 16],
      [604, 16],
    ]);
    expect(svg).toContain('>250</text>');
    expect(svg).toContain('>p99.99</text>');
  });

  it('rounds the scale up to 1, 2, 2.5 or 5 times a power of ten, counting budgets', () => {
    const top = (svg: string) =>
      Math.max(...[...svg.matchAll(/font-size="11">([\d.]+)<\/text>/g)].map((m) => +m[1]!));
    const series = (ms: number) => [{ name: 'c', colour: '#000', points: [{ percentile: 50, ms }] }];
    expect(top(percentilePlot(series(130)))).toBe(200);
    expect(top(percentilePlot(series(201)))).toBe(250);
    expect(top(percentilePlot(series(3.2)))).toBe(5);
    expect(top(percentilePlot(series(40), [{ label: 'p99 budget 600 ms', ms: 600 }]))).toBe(1000);
    expect(top(percentilePlot([]))).toBe(1);
  });

  it('draws one polyline and one legend entry per series, and one dashed line per budget', () => {
    const svg = percentilePlot(
      [
        { name: 'candidate 2', colour: '#1f6feb', points: curve(10) },
        { name: 'stable 1', colour: '#8b949e', points: curve(8) },
      ],
      [
        { label: 'p50 budget 50 ms', ms: 50 },
        { label: 'p99 budget 200 ms', ms: 200 },
      ],
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(count(svg, /<polyline\b/)).toBe(2);
    expect(points(svg).map((p) => p.length)).toEqual([12, 12]);
    expect(count(svg, /stroke-dasharray/)).toBe(2);
    expect(svg).toContain('>candidate 2</text>');
    expect(svg).toContain('>p50 budget 50 ms</text>');
  });

  it('escapes series names and budget labels, and never writes NaN', () => {
    const svg = percentilePlot(
      [{ name: '<script>', colour: '"red', points: [{ percentile: 50, ms: Number.NaN }] }],
      [{ label: 'a & <b>', ms: 10 }],
    );
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;script&gt;');
    expect(svg).toContain('a &amp; &lt;b&gt;');
    expect(svg).toContain('stroke="&quot;red"');
    expect(svg).not.toContain('NaN');
  });
});

describe('svg helpers', () => {
  it('escapes the five XML specials', () => {
    expect(escapeXml(`<a href="x">Tom & Jerry's</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;',
    );
  });

  it('writes numbers short and never NaN', () => {
    expect(n(12.345)).toBe('12.3');
    expect(n(7)).toBe('7');
    expect(n(Number.NaN)).toBe('0');
    expect(n(Number.POSITIVE_INFINITY)).toBe('0');
  });
});

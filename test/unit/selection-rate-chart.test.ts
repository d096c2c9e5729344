import { describe, expect, it } from 'vitest';
import { measureFairness, type PredictionRow } from '../../src/domain/fairness.js';
import { selectionRateChart } from '../../src/report/selection-rate-chart.js';

/** Rows whose colour and sex are given per row; yPred 1 for the first `selected` of each pair's rows. */
function sample(spec: Array<[colour: string, sex: string, rows: number, selected: number]>) {
  const data: PredictionRow[] = [];
  for (const [colour, sex, k, selected] of spec) {
    for (let i = 0; i < k; i++) data.push({ yPred: i < selected ? 1 : 0, groups: { colour, sex } });
  }
  return measureFairness(data, ['colour', 'sex'], { minGroupSize: 30 });
}

const bars = (svg: string, kind: string) =>
  svg.match(new RegExp(`<rect class="bar ${kind}"`, 'g'))?.length ?? 0;

describe('selectionRateChart', () => {
  const candidate = sample([
    ['Black', 'F', 50, 10],
    ['Black', 'M', 50, 11],
    ['White', 'F', 50, 24],
    ['White', 'M', 50, 24],
  ]);
  const stable = sample([
    ['Black', 'F', 50, 22],
    ['Black', 'M', 50, 23],
    ['White', 'F', 50, 24],
    ['White', 'M', 50, 25],
  ]);

  it('draws one bar per group per version, with the values and a legend', () => {
    const svg = selectionRateChart({
      candidate: { label: 'candidate v2', metrics: candidate },
      stable: { label: 'stable v1', metrics: stable },
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.endsWith('</svg>')).toBe(true);
    // colour: Black, White; sex: F, M.
    expect(bars(svg, 'candidate')).toBe(4);
    expect(bars(svg, 'stable')).toBe(4);
    expect(svg).toContain('data-attribute="colour" data-group="Black"');
    expect(svg).toContain('>0.21<'); // Black, candidate: 21 of 100
    expect(svg).toContain('>0.45<'); // Black, stable
    expect(svg).toContain('>candidate v2</text>');
    expect(svg).toContain('>stable v1</text>');
    expect(svg).toContain('selection rate (share of rows predicted positive)');
    expect(svg).toContain('4/5 of highest');
    expect(svg).toContain('colour=Black, candidate v2: 0.21 (21 of 100 selected)');
  });

  it('draws the candidate alone on a first release', () => {
    const svg = selectionRateChart({ candidate: { label: 'candidate v1', metrics: candidate } });
    expect(bars(svg, 'candidate')).toBe(4);
    expect(bars(svg, 'stable')).toBe(0);
    expect(svg).toContain('aria-label="selection rate per group, candidate v1"');
  });

  it('escapes every name it prints', () => {
    const hostile = measureFairness(
      [
        { yPred: 1, groups: { 'a&b': '<script>alert("x")</script>' } },
        { yPred: 0, groups: { 'a&b': "O'Brien" } },
      ],
      ['a&b'],
    );
    const svg = selectionRateChart({ candidate: { label: 'v<2>', metrics: hostile } });
    expect(svg).not.toContain('<script>');
    expect(svg).not.toMatch(/a&b|O'Brien|v<2>/);
    expect(svg).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(svg).toContain('O&#39;Brien');
    expect(svg).toContain('>a&amp;b</text>');
    expect(svg).toContain('>v&lt;2&gt;</text>');
  });

  it('marks a group too small to gate, and says when a version has no rows for a group', () => {
    const small = sample([
      ['Black', 'F', 40, 10],
      ['White', 'F', 40, 20],
      ['Other', 'F', 3, 1],
    ]);
    const svg = selectionRateChart({
      candidate: { label: 'candidate v2', metrics: small },
      stable: { label: 'stable v1', metrics: stable },
    });
    expect(svg).toContain('>n=3, not gated</text>');
    expect(svg).toContain('>n=40</text>');
    // Other is only in the candidate; M is only in stable.
    expect(bars(svg, 'candidate')).toBe(4);
    expect(bars(svg, 'stable')).toBe(4);
    expect(svg.match(/: no rows</g)).toHaveLength(2);
  });
});

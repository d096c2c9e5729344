import { describe, expect, it } from 'vitest';
import { parseTraffic, peakRate, replayRate, TrafficFormatError } from '../../src/domain/traffic.js';

const request = (id: number) => ({
  inputs: [{ name: 'person_id', shape: [1], datatype: 'INT64', data: [id] }],
});
const line = (doc: Record<string, unknown>) => JSON.stringify(doc);
const HEADER = line({ paved_capture: 1, model: 'arrests', started: '2026-11-25T12:00:00.000Z', rate: 0.25 });

/** The message a TrafficFormatError carries, or a failure when parsing succeeds. */
function formatError(text: string, source = 'sample.jsonl'): TrafficFormatError {
  try {
    parseTraffic(text, source);
  } catch (err) {
    expect(err).toBeInstanceOf(TrafficFormatError);
    return err as TrafficFormatError;
  }
  throw new Error('parseTraffic accepted a sample with no usable request');
}

describe('parseTraffic', () => {
  it('reads a live capture: header with the sampling rate, then requests with time, key and body', () => {
    const text = [
      HEADER,
      line({ t: 0, key: 'a', request: request(1) }),
      line({ t: 12.5, key: 'b', request: request(2) }),
      '',
    ].join('\n');
    expect(parseTraffic(text, 'capture.jsonl')).toEqual({
      header: { paved_capture: 1, model: 'arrests', started: '2026-11-25T12:00:00.000Z', rate: 0.25 },
      lines: [
        { t: 0, key: 'a', request: request(1) },
        { t: 12.5, key: 'b', request: request(2) },
      ],
      skipped: 0,
    });
  });

  it('reads a package sample: no header, held-out labels 0 and 1', () => {
    const text = [
      line({ t: 0, key: '1883', request: request(1883), label: 1 }),
      line({ t: 50, key: '4680', request: request(4680), label: 0 }),
    ].join('\n');
    const sample = parseTraffic(text, 'traffic-sample.jsonl');
    expect(sample.header).toBeNull();
    expect(sample.skipped).toBe(0);
    expect(sample.lines.map((l) => l.label)).toEqual([1, 0]);
  });

  it('accepts a header without a rate (a hand-written capture)', () => {
    const text = [
      line({ paved_capture: 1, model: 'm', started: '2026-01-01T00:00:00Z' }),
      line({ t: 0, request: request(1) }),
    ].join('\n');
    const sample = parseTraffic(text, 's');
    expect(sample.header).toEqual({ paved_capture: 1, model: 'm', started: '2026-01-01T00:00:00Z' });
    expect(sample.header?.rate).toBeUndefined();
  });

  it('defaults a missing key to null and leaves a missing label undefined', () => {
    const [only] = parseTraffic(line({ t: 3, request: request(7) }), 's').lines;
    expect(only!.key).toBeNull();
    expect(only!.label).toBeUndefined();
    expect('label' in only!).toBe(false);
  });

  it('keeps an explicit null key and extra fields of the V2 body', () => {
    const body = { id: 'r1', parameters: { x: 1 }, inputs: [{ name: 'f', shape: [2], data: [1, 2] }] };
    const [only] = parseTraffic(line({ t: 0, key: null, request: body }), 's').lines;
    expect(only!.key).toBeNull();
    expect(only!.request).toEqual(body);
  });

  it('skips and counts a torn last line (a capture still being written)', () => {
    const text = [
      HEADER,
      line({ t: 0, key: 'a', request: request(1) }),
      line({ t: 5, key: 'b', request: request(2) }),
      '{"t": 9, "key": "c", "request": {"inpu',
    ].join('\n');
    const sample = parseTraffic(text, 'capture.jsonl');
    expect(sample.lines).toHaveLength(2);
    expect(sample.skipped).toBe(1);
  });

  it('skips and counts stray bad lines in the middle, and ignores blank lines and CRLF', () => {
    const text = [
      line({ t: 0, request: request(1) }),
      '',
      'not json at all',
      line({ t: -1, request: request(2) }),
      line({ t: 1, request: { inputs: [] } }),
      line({ t: 2, request: request(3), label: 2 }),
      '   ',
      line({ t: 3, request: request(4) }),
    ].join('\r\n');
    const sample = parseTraffic(text, 's');
    expect(sample.lines.map((l) => l.t)).toEqual([0, 3]);
    expect(sample.skipped).toBe(4);
  });

  it('with no usable line throws TrafficFormatError naming the source, the first problem and its line', () => {
    const text = ['', line({ t: 0, key: 5, request: request(1) }), 'garbage'].join('\n');
    const err = formatError(text, 'captures/arrests.jsonl');
    expect(err.name).toBe('TrafficFormatError');
    expect(err.message).toBe(
      'captures/arrests.jsonl holds no replayable request ' +
        '(line 2: key Invalid input: expected string, received number); ' +
        'each line must be {"t": ms, "key": ..., "request": {"inputs": [...]}} (docs/traffic-format.md)',
    );
  });

  it('names a torn JSON line as "not JSON" with its line number', () => {
    expect(formatError([HEADER, '{"t": 0, "req'].join('\n')).message).toContain('(line 2: not JSON)');
  });

  it('explains each kind of bad line by its field', () => {
    expect(formatError(line({ key: 'a', request: request(1) })).message).toContain(
      '(line 1: t Invalid input: expected number, received undefined)',
    );
    expect(formatError(line({ t: -5, request: request(1) })).message).toContain(
      '(line 1: t must be milliseconds from the start of the sample, 0 or more)',
    );
    expect(formatError(line({ t: 0, request: { inputs: [] } })).message).toContain(
      '(line 1: request.inputs Too small',
    );
    expect(formatError(line({ t: 0, request: request(1), label: 2 })).message).toContain('(line 1: label ');
    expect(formatError('42').message).toContain('(line 1: (line) ');
  });

  it('says only that nothing is replayable when the file is empty or holds just a header', () => {
    for (const text of ['', '\n\n', HEADER]) {
      const err = formatError(text, 'empty.jsonl');
      expect(err.message).toMatch(/^empty\.jsonl holds no replayable request; each line must be/);
    }
  });
});

describe('peakRate', () => {
  it('is zero for no requests', () => {
    expect(peakRate([])).toBe(0);
  });

  it('counts the busiest one-second window, in requests per second', () => {
    // 3 requests in [0, 1000), then a burst of 5 within 400 ms.
    expect(peakRate([0, 300, 900, 5000, 5100, 5200, 5300, 5400])).toBe(5);
  });

  it('slides the window: a window is half-open, [t, t + windowMs)', () => {
    expect(peakRate([0, 999])).toBe(2);
    expect(peakRate([0, 1000])).toBe(1);
    // 500..1499 holds 500, 999, 1000, 1499: a window not aligned to whole seconds.
    expect(peakRate([0, 500, 999, 1000, 1499, 2600])).toBe(4);
  });

  it('sorts its input without changing it', () => {
    const times = [5400, 0, 5200, 5000, 300];
    expect(peakRate(times)).toBe(3);
    expect(times).toEqual([5400, 0, 5200, 5000, 300]);
  });

  it('scales a shorter or longer window to a per-second rate', () => {
    expect(peakRate([0, 100, 200, 900], 250)).toBe(12); // 3 in 250 ms
    expect(peakRate([0, 1500, 3000, 4000], 5000)).toBeCloseTo(0.8); // 4 in 5 s
  });

  it('counts simultaneous requests', () => {
    expect(peakRate([10, 10, 10, 10])).toBe(4);
  });
});

describe('replayRate', () => {
  const policy = { rate: 10, headroom: 1.5, max_rate: 200 };
  /** `count` requests spread over one second starting at `from`. */
  const burst = (count: number, from = 0) =>
    Array.from({ length: count }, (_, i) => from + (i * 999) / count);

  it('replays a package sample (no live timing) at the policy rate', () => {
    expect(replayRate({ live: false, times: [] }, policy)).toEqual({
      rate: 10,
      why: 'policy rate 10/s (no live traffic recorded yet)',
    });
  });

  it('ignores the timing of a package sample', () => {
    expect(replayRate({ live: false, times: burst(100) }, policy).rate).toBe(10);
  });

  it('never replays a package sample above max_rate, and says it was capped', () => {
    const r = replayRate({ live: false, times: [] }, { ...policy, rate: 500 });
    expect(r.rate).toBe(200);
    // The reason must not call 200/s "the policy rate" when the policy asked for 500/s.
    expect(r.why).toContain('capped at 200/s');
  });

  it('replays live traffic at the recorded peak × headroom', () => {
    const times = [...burst(20), ...burst(5, 10_000)];
    expect(replayRate({ live: true, times, sampledShare: 1 }, policy)).toEqual({
      rate: 30,
      why: 'recorded peak 20/s × headroom 1.5',
    });
  });

  it('treats a missing sampled share as a full capture', () => {
    expect(replayRate({ live: true, times: burst(20) }, policy).rate).toBe(30);
  });

  it('scales the recorded peak back up by the sampled share', () => {
    // 8 recorded in the peak second at a 25 % sample: the live peak was 32/s.
    expect(replayRate({ live: true, times: burst(8), sampledShare: 0.25 }, policy)).toEqual({
      rate: 48,
      why: 'live peak 32/s (8/s recorded at 25 % sampling) × headroom 1.5',
    });
  });

  it('caps live traffic at max_rate and says so', () => {
    // 30 recorded at 10 %: 300/s live, × 1.5 = 450/s wanted.
    expect(replayRate({ live: true, times: burst(30), sampledShare: 0.1 }, policy)).toEqual({
      rate: 200,
      why: 'live peak 300/s (30/s recorded at 10 % sampling) × headroom 1.5, capped at 200/s',
    });
  });

  it('does not say capped when the wanted rate is exactly max_rate', () => {
    const r = replayRate({ live: true, times: burst(100) }, { ...policy, headroom: 2 });
    expect(r).toEqual({ rate: 200, why: 'recorded peak 100/s × headroom 2' });
  });

  it('rounds the peak in the reason to one decimal', () => {
    const r = replayRate({ live: true, times: burst(1), sampledShare: 0.3 }, { ...policy, headroom: 1 });
    expect(r.rate).toBeCloseTo(3.3333, 3);
    expect(r.why).toBe('live peak 3.3/s (1/s recorded at 30 % sampling) × headroom 1');
  });

  it('never replays slower than one request per second', () => {
    expect(replayRate({ live: true, times: [], sampledShare: 1 }, policy).rate).toBe(1);
    expect(replayRate({ live: true, times: [0] }, { ...policy, headroom: 0.5 }).rate).toBe(1);
  });
});

import type { RolloutStepRecord, WindowStats } from '../domain/rollout.js';
import { htmlTable, type RenderedSection } from './release-report.js';
import { escapeXml } from './svg.js';

export interface RolloutSectionInput {
  version: string;
  /** The version that served before, or null on the model's first release. */
  stable: string | null;
  windows: RolloutStepRecord[];
  /** How the rollout ended, one sentence. */
  ending: string;
}

const HEADERS = [
  'weight',
  'decision',
  'canary requests',
  'canary errors',
  'canary p99',
  'stable requests',
  'stable p99',
  'why',
];

function stats(s: WindowStats | null): [string, string, string] {
  if (!s) return ['—', '—', '—'];
  return [String(s.requests), String(s.errors), s.p99Ms === null ? '—' : `${s.p99Ms.toFixed(1)} ms`];
}

/** The rollout's windows as a report section: what each step saw and decided. */
export function rolloutSection(input: RolloutSectionInput): RenderedSection {
  const judged = input.windows.some((w) => w.canary !== null);
  const intro = input.stable
    ? `${input.version} against stable ${input.stable} on live traffic through the gateway, one row per judged window.`
    : `First release: no stable version to protect or compare with. ${input.version} took 100 % once its container answered ready and was not judged on live traffic.`;
  const rows = input.windows.map((w) => {
    const [cReq, cErr, cP99] = stats(w.canary);
    const [sReq, , sP99] = stats(w.stable);
    return [`${w.weight} %`, w.decision, cReq, cErr, cP99, sReq, sP99, w.reason];
  });
  const ending = `${judged ? '' : 'Not judged on live traffic. '}${input.ending}`;
  return {
    title: 'Rollout',
    markdown: [
      intro,
      '',
      `**${ending}**`,
      '',
      `| ${HEADERS.join(' | ')} |`,
      `|${HEADERS.map(() => '---').join('|')}|`,
      ...rows.map((r) => `| ${r.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`),
    ].join('\n'),
    html: [`<p>${escapeXml(intro)}</p>`, `<p><b>${escapeXml(ending)}</b></p>`, htmlTable(HEADERS, rows)].join(
      '\n',
    ),
  };
}

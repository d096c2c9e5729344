import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** A duration as people write it in YAML: "30s", "15m", "72h", "2d". */
export const durationSchema = z
  .string({ error: 'must be a duration like "30s", "15m" or "72h"' })
  .regex(DURATION, 'must be a duration like "30s", "15m" or "72h"');

export function durationMs(text: string): number {
  const m = DURATION.exec(text);
  if (!m) throw new Error(`not a duration: ${text}`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

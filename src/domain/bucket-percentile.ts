/**
 * A percentile from a cumulative histogram (counts of values ≤ each edge), with linear
 * interpolation inside the bucket it falls in: the data plane keeps buckets, not values.
 * Values above the last edge are reported as the last edge. Null when nothing was counted.
 */
export function bucketPercentile(
  edges: readonly number[],
  cumulative: readonly number[],
  percentile: number,
): number | null {
  const total = cumulative[cumulative.length - 1] ?? 0;
  if (total <= 0) return null;
  const rank = (percentile / 100) * total;
  for (let i = 0; i < edges.length; i++) {
    const below = i === 0 ? 0 : cumulative[i - 1]!;
    const upTo = cumulative[i] ?? below;
    if (upTo >= rank && upTo > below) {
      const lower = i === 0 ? 0 : edges[i - 1]!;
      return lower + ((edges[i]! - lower) * (rank - below)) / (upTo - below);
    }
  }
  return edges[edges.length - 1] ?? null;
}

/** Cumulative counts of the later snapshot minus the earlier one (a reset counter starts over). */
export function bucketDelta(later: readonly number[], earlier: readonly number[] | undefined): number[] {
  if (!earlier || earlier.length !== later.length || earlier.some((e, i) => e > later[i]!)) return [...later];
  return later.map((v, i) => v - earlier[i]!);
}

import type Docker from 'dockerode';
import type { ResourceUsage } from '../../domain/shadow.js';

interface StatsFrame {
  read: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; stats?: Record<string, number> };
}

/** Memory as `docker stats` shows it: usage less the page cache the kernel can drop. */
function workingSetBytes(frame: StatsFrame): number | null {
  const m = frame.memory_stats;
  if (m?.usage === undefined) return null;
  // As the docker CLI does: cgroup v1 names it total_inactive_file, v2 inactive_file.
  const cache = m.stats?.total_inactive_file ?? m.stats?.inactive_file ?? 0;
  return cache < m.usage ? m.usage - cache : m.usage;
}

/** Pure: the usage between the first and last frame of a window. */
export function usageFromFrames(frames: readonly StatsFrame[]): ResourceUsage | null {
  const withCpu = frames.filter((f) => f.cpu_stats?.cpu_usage?.total_usage !== undefined);
  if (withCpu.length < 2) return null;
  const first = withCpu[0]!;
  const last = withCpu[withCpu.length - 1]!;
  const mem = frames.map(workingSetBytes).filter((v): v is number => v !== null);
  const mb = (b: number) => b / (1024 * 1024);
  return {
    cpuSeconds: (last.cpu_stats!.cpu_usage!.total_usage! - first.cpu_stats!.cpu_usage!.total_usage!) / 1e9,
    memMeanMB: mem.length ? mb(mem.reduce((a, b) => a + b, 0) / mem.length) : 0,
    memPeakMB: mem.length ? mb(Math.max(...mem)) : 0,
    seconds: (Date.parse(last.read) - Date.parse(first.read)) / 1000,
    samples: frames.length,
  };
}

/**
 * Streams Docker's per-container stats (one frame a second) from now until
 * `stop()`, which returns each container's CPU seconds and memory over that span.
 */
export async function watchContainers(
  docker: Docker,
  names: readonly string[],
): Promise<{ stop(): Promise<Record<string, ResourceUsage | null>> }> {
  const watches = await Promise.all(
    names.map(async (name) => {
      const frames: StatsFrame[] = [];
      const stream = (await docker.getContainer(name).stats({ stream: true })) as NodeJS.ReadableStream & {
        destroy(): void;
      };
      let buffered = '';
      stream.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (!line) continue;
          try {
            frames.push(JSON.parse(line) as StatsFrame);
          } catch {
            /* a torn frame: the next one is a second away */
          }
        }
      });
      stream.on('error', () => undefined);
      return { name, frames, stream };
    }),
  );
  return {
    async stop() {
      for (const w of watches) w.stream.destroy();
      return Object.fromEntries(watches.map((w) => [w.name, usageFromFrames(w.frames)]));
    },
  };
}

import type Docker from 'dockerode';

interface PushEvent {
  status?: string;
  id?: string;
  error?: string;
  aux?: { Digest?: string };
}

/**
 * Pushes ref (registry/repository:tag) and returns the manifest digest the engine
 * reports. onProgress receives short progress lines (used as activity heartbeats).
 */
export async function pushImage(
  docker: Docker,
  ref: string,
  onProgress: (line: string) => void = () => {},
): Promise<string> {
  // The local registry needs no credentials, but the engine API wants the header.
  const registry = ref.split('/')[0];
  const stream = await docker.getImage(ref).push({ authconfig: { serveraddress: registry } });
  const events = await new Promise<PushEvent[]>((resolve, reject) =>
    docker.modem.followProgress(
      stream,
      (err: Error | null, out: PushEvent[]) => (err ? reject(err) : resolve(out)),
      (e: PushEvent) => {
        if (e.status) onProgress(`${e.id ? `${e.id}: ` : ''}${e.status}`);
      },
    ),
  );
  const failed = events.find((e) => e.error);
  if (failed) throw new Error(`pushing ${ref} to the image registry at ${registry} failed: ${failed.error}`);
  const digest = events.map((e) => e.aux?.Digest).find(Boolean);
  if (!digest) throw new Error(`docker push ${ref} reported no digest`);
  return digest;
}

/**
 * A minimal OCI distribution (registry v2) client over fetch: the few read calls
 * paved needs. Pushing goes through the Docker engine.
 */
const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

export class RegistryClient {
  constructor(readonly address: string) {}

  private url(p: string): string {
    return `http://${this.address}${p}`;
  }

  /** true when the address speaks the registry v2 API. */
  async ping(timeoutMs = 2000): Promise<boolean> {
    try {
      const res = await fetch(this.url('/v2/'), { signal: AbortSignal.timeout(timeoutMs) });
      return (
        res.status === 200 &&
        (res.headers.get('docker-distribution-api-version') ?? '').startsWith('registry/2')
      );
    } catch {
      return false;
    }
  }

  /** The digest the registry holds for repository:reference, or null if it has none. */
  async manifestDigest(repository: string, reference: string): Promise<string | null> {
    const res = await this.get(`/v2/${repository}/manifests/${reference}`, {
      method: 'HEAD',
      headers: { accept: MANIFEST_TYPES },
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status === 404) return null;
    if (!res.ok)
      throw new Error(
        `registry ${this.address}: HEAD manifest ${repository}:${reference} answered ${res.status}`,
      );
    return res.headers.get('docker-content-digest');
  }

  /** The image config's labels for repository:reference (single-platform images), or null if absent. */
  async imageLabels(repository: string, reference: string): Promise<Record<string, string> | null> {
    const res = await this.get(`/v2/${repository}/manifests/${reference}`, {
      headers: {
        accept:
          'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
      },
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status === 404) return null;
    if (!res.ok)
      throw new Error(`registry ${this.address}: manifest ${repository}:${reference} answered ${res.status}`);
    const manifest = (await res.json()) as { config?: { digest?: string } };
    if (!manifest.config?.digest) return null;
    const blob = await this.get(`/v2/${repository}/blobs/${manifest.config.digest}`, {
      signal: AbortSignal.timeout(10_000),
    });
    if (!blob.ok)
      throw new Error(
        `registry ${this.address}: config blob of ${repository}:${reference} answered ${blob.status}`,
      );
    const config = (await blob.json()) as { config?: { Labels?: Record<string, string> | null } };
    return config.config?.Labels ?? {};
  }

  async tags(repository: string): Promise<string[]> {
    const res = await this.get(`/v2/${repository}/tags/list`, { signal: AbortSignal.timeout(10_000) });
    if (res.status === 404) return [];
    if (!res.ok) throw new Error(`registry ${this.address}: tags of ${repository} answered ${res.status}`);
    const body = (await res.json()) as { tags?: string[] | null };
    return body.tags ?? [];
  }

  /** fetch, with a failure to connect said as what it is: the registry does not answer. */
  private async get(route: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(this.url(route), init);
    } catch (err) {
      const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
      throw new Error(`the image registry at ${this.address} does not answer (${cause})`);
    }
  }
}

import { describe, expect, it } from 'vitest';
import { runnablePart, runnableParts } from '../../src/adapters/stack/foreground.js';

describe('stack parts a container can run', () => {
  it('are the parts that are one process each; Docker and the base image are not', () => {
    expect(runnableParts().map((p) => p.name)).toEqual([
      'registry',
      'temporal',
      'feature-store',
      'envoy',
      'gateway',
    ]);
    expect(runnablePart('feature-store').daemon).toBe('feature-server');
  });

  it('refuses another name and lists the ones it runs', () => {
    expect(() => runnablePart('docker')).toThrow(
      'no stack part "docker" runs as a process. Fix: use one of registry, temporal, feature-store, envoy, gateway',
    );
  });
});

import { describe, expect, it } from 'vitest';
import { featureDoor, replicaName } from '../../src/adapters/runtime/docker/docker-runtime.js';
import { sealedCreateOptions } from '../../src/adapters/runtime/docker/hardened.js';
import type { FeatureBinding } from '../../src/domain/feature-binding.js';
import { FeatureDoorSchema } from '../../src/domain/route.js';
import { renderEnvoyConfig } from '../../src/gateway/envoy/resources.js';

const binding: FeatureBinding = {
  server: 'http://127.0.0.1:6566',
  project: 'paved',
  service: 'arrests_model',
  registryVersion: '1',
  entityKey: 'person_id',
  inputs: [
    { name: 'age', dtype: 'float32', ref: 'person_profile__age', feastDtype: 'Float32' },
    { name: 'hour', dtype: 'float32', ref: null, feastDtype: null },
  ],
};

describe('a sealed model container', () => {
  it('has no network, one mounted directory, an unprivileged user and the given limits', () => {
    const o = sealedCreateOptions({
      name: 'm',
      image: 'i',
      socketDir: '/srv/r/1',
      memoryMB: 512,
      cpus: 0.5,
      pids: 64,
    });
    expect(o.HostConfig).toMatchObject({
      NetworkMode: 'none',
      Binds: ['/srv/r/1:/run/paved:rw'],
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Memory: 512 * 1024 * 1024,
      NanoCpus: 5e8,
      PidsLimit: 64,
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '2' } },
    });
    expect(o.HostConfig).not.toHaveProperty('PortBindings');
    expect(o.User).toBe('1000:1000');
    expect(o.Env).toContain('PAVED_SOCKET=/run/paved/model.sock');
  });

  it('names replicas by role, so a retry finds its own', () => {
    expect(replicaName('arrests', 'v1', 'serving')).toBe('paved-arrests.v1');
    expect(replicaName('arrests', 'v1', 'shadow')).toBe('paved_shadow.arrests.v1');
    expect(replicaName('arrests', 'v1', 'try')).toBe('paved-try-arrests.v1');
  });

  it('opens a door to the bound features only, the ones read from Feast', () => {
    const door = featureDoor(binding, '/srv/r/1/features.sock', 'arrests/v1 (serving)');
    expect(door).toEqual({
      socket: '/srv/r/1/features.sock',
      owner: 'arrests/v1 (serving)',
      service: 'arrests_model',
      entityKey: 'person_id',
      features: ['person_profile__age'],
    });
    expect(FeatureDoorSchema.safeParse(door).success).toBe(true);
  });

  it('renders the door as a socket listener, open to the model’s user, in front of the feature server', () => {
    const c = renderEnvoyConfig(
      {
        models: {},
        featureDoors: { d1: featureDoor(binding, '/srv/r/1/features.sock', 'arrests/v1 (serving)') },
      },
      {
        socketDir: '/s',
        captureRate: 0,
        adminCluster: 'a',
        featureServerPort: 6566,
        featureProxyLog: '/l.log',
      },
    );
    const listener = c.listeners['door|d1'] as { address: { pipe: { path: string; mode: number } } };
    expect(listener.address.pipe).toEqual({ path: '/srv/r/1/features.sock', mode: 0o666 });
    const text = JSON.stringify(listener);
    expect(text).toContain('[\\"person_profile__age\\"] = true'); // the allow-list in the door's script
    expect(text).toContain('person_profile:age'); // what is asked of Feast, rebuilt
    expect(text).toContain('"cluster":"feature-server"');
    expect(Object.keys(c.clusters)).toEqual(['feature-server']);
  });
});

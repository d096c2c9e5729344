import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  resolveConfig,
  splitHostPort,
  venvRoot,
  type ConfigSources,
} from '../../src/domain/config.js';

function sources(env: Record<string, string> = {}, file?: unknown): ConfigSources {
  return {
    env,
    file: file === undefined ? undefined : { path: '/repo/paved.config.yaml', data: file },
    fileDir: '/repo',
    cwd: '/work',
    defaultHome: '/repo/.paved',
    defaultCacheDir: '/root/.cache/paved',
    resolvePath: (base, p) => path.resolve(base, p),
  };
}

function problemsOf(src: ConfigSources): string[] {
  try {
    resolveConfig(src);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('config defaults', () => {
  it('describes the local stack when nothing is set', () => {
    const c = resolveConfig(sources());
    expect(c).toEqual({
      home: '/repo/.paved',
      cacheDir: '/root/.cache/paved',
      temporal: { address: '127.0.0.1:7233', namespace: 'default', uiPort: 8233, taskQueue: 'paved' },
      docker: { host: 'unix:///var/run/docker.sock', hosts: [] },
      store: {},
      registry: { address: '127.0.0.1:5000' },
      worker: { metricsPort: 9464 },
      gateway: { port: 8090, adminPort: 8091, dataPlaneAdminPort: 8092, captureRate: 0.05, captureMaxMB: 16 },
      featureStore: { port: 6566 },
      baseImage: { debianMirror: 'http://deb.debian.org/debian', suite: 'bookworm' },
    });
  });
});

describe('config sources', () => {
  it('reads the file and lets the environment override it', () => {
    const c = resolveConfig(
      sources(
        { PAVED_TEMPORAL_ADDRESS: 'temporal.internal:7233', PAVED_METRICS_PORT: '9999' },
        {
          temporal: { address: '127.0.0.1:1', namespace: 'ml' },
          registry: { address: 'registry.local:443' },
        },
      ),
    );
    expect(c.temporal.address).toBe('temporal.internal:7233');
    expect(c.temporal.namespace).toBe('ml');
    expect(c.registry.address).toBe('registry.local:443');
    expect(c.worker.metricsPort).toBe(9999);
  });

  it('resolves a relative PAVED_HOME against the working directory, and the file home against the file', () => {
    expect(resolveConfig(sources({ PAVED_HOME: 'state' })).home).toBe('/work/state');
    expect(resolveConfig(sources({}, { home: 'state' })).home).toBe('/repo/state');
  });

  it('accepts TLS with a client certificate pair', () => {
    const c = resolveConfig(
      sources({
        PAVED_TEMPORAL_TLS_CERT: '/c.pem',
        PAVED_TEMPORAL_TLS_KEY: '/k.pem',
        PAVED_TEMPORAL_TLS_SERVER_NAME: 't',
      }),
    );
    expect(c.temporal.tls).toEqual({ certFile: '/c.pem', keyFile: '/k.pem', serverName: 't' });
  });

  it('accepts a tcp Docker host and an IPv6 address', () => {
    const c = resolveConfig(sources({ DOCKER_HOST: 'tcp://127.0.0.1:2375', PAVED_REGISTRY: '[::1]:5000' }));
    expect(c.docker.host).toBe('tcp://127.0.0.1:2375');
    expect(splitHostPort(c.registry.address)).toEqual({ host: '::1', port: 5000 });
  });
});

describe('config errors name the variable and the fix', () => {
  it('rejects a non-numeric port from the environment', () => {
    const [p] = problemsOf(sources({ PAVED_TEMPORAL_UI_PORT: 'eighty' }));
    expect(p).toContain('PAVED_TEMPORAL_UI_PORT="eighty"');
    expect(p).toContain('port number');
    expect(p).toContain('Fix: use a free port');
  });

  it('rejects an out-of-range port', () => {
    const [p] = problemsOf(sources({ PAVED_METRICS_PORT: '70000' }));
    expect(p).toMatch(/PAVED_METRICS_PORT="70000": must be a port number between 1 and 65535/);
  });

  it('rejects an address without a port and says which variable', () => {
    const [p] = problemsOf(sources({ PAVED_TEMPORAL_ADDRESS: 'localhost' }));
    expect(p).toBe(
      'PAVED_TEMPORAL_ADDRESS="localhost": must be host:port. Fix: use host:port, e.g. 127.0.0.1:7233.',
    );
  });

  it('names the file and the key for a bad value in paved.config.yaml', () => {
    const [p] = problemsOf(sources({}, { registry: { address: 'http://127.0.0.1:5000' } }));
    expect(p).toContain('/repo/paved.config.yaml: registry.address="http://127.0.0.1:5000"');
    expect(p).toContain('Fix: use host:port');
  });

  it('reports an unknown key in the file with the known ones', () => {
    const [p] = problemsOf(sources({}, { temporal: { adress: '127.0.0.1:7233' } }));
    expect(p).toContain('unknown setting "temporal.adress"');
    expect(p).toContain('address');
  });

  it('rejects a Docker host that is not a socket or tcp URL', () => {
    const [p] = problemsOf(sources({ DOCKER_HOST: '/var/run/docker.sock' }));
    expect(p).toContain('DOCKER_HOST="/var/run/docker.sock": must start with unix:/// or tcp://');
  });

  it('needs the TLS certificate and key together', () => {
    const [p] = problemsOf(sources({ PAVED_TEMPORAL_TLS_CERT: '/c.pem' }));
    expect(p).toContain('PAVED_TEMPORAL_TLS_CERT');
    expect(p).toContain('certFile and keyFile must be given together');
  });

  it('collects every problem at once instead of stopping at the first', () => {
    const problems = problemsOf(sources({ PAVED_TEMPORAL_UI_PORT: 'x', PAVED_REGISTRY: 'nope' }));
    expect(problems).toHaveLength(2);
    expect(new ConfigError(problems).message).toMatch(/^paved configuration is invalid:\n {2}- /);
  });

  it('refuses a file that is not a mapping', () => {
    expect(() => resolveConfig(sources({}, ['a', 'b']))).toThrow(/must be a YAML mapping/);
  });
});

describe('docker.hosts', () => {
  it('reads a comma-separated PAVED_DOCKER_HOSTS, and names the setting when one is not a Docker URL', () => {
    const ok = resolveConfig(
      sources({ PAVED_DOCKER_HOSTS: 'unix:///var/run/docker.sock, unix:///run/d2.sock' }),
    );
    expect(ok.docker.hosts).toEqual(['unix:///var/run/docker.sock', 'unix:///run/d2.sock']);
    expect(() =>
      resolveConfig(sources({ PAVED_DOCKER_HOSTS: 'unix:///run/d1.sock,127.0.0.1:2375' })),
    ).toThrow(/docker\.hosts\.1.*must start with unix:\/\/\/ or tcp:\/\//);
  });
});

describe('venvDir', () => {
  it("is PAVED_HOME unless set, and resolves against the caller's directory", () => {
    expect(venvRoot(resolveConfig(sources()))).toBe(resolveConfig(sources()).home);
    expect(venvRoot(resolveConfig(sources({ PAVED_VENV_DIR: 'envs' })))).toBe('/work/envs');
    expect(venvRoot(resolveConfig(sources({}, { venvDir: '/opt/paved-venvs' })))).toBe('/opt/paved-venvs');
  });
});

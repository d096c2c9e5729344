import path from 'node:path';
import type { PavedConfig } from '../../domain/config.js';
import type { BootstrapOptions } from './bootstrap.js';
import { EnvoyDataPlane } from './envoy-data-plane.js';

/** Where the local Envoy and its control plane meet: files under PAVED_HOME/gateway. */
export function envoyLayout(config: PavedConfig) {
  const dir = path.join(config.home, 'gateway');
  return {
    dir,
    xdsDir: path.join(dir, 'xds'),
    socketDir: path.join(dir, 'sockets'),
    captureLog: path.join(dir, 'capture.log'),
    featureProxyLog: path.join(dir, 'feature-proxy.log'),
    bootstrapFile: path.join(dir, 'envoy-bootstrap.json'),
    adminUrl: `http://127.0.0.1:${config.gateway.dataPlaneAdminPort}`,
  };
}

export function bootstrapOptions(config: PavedConfig): BootstrapOptions {
  const layout = envoyLayout(config);
  return {
    port: config.gateway.port,
    adminPort: config.gateway.dataPlaneAdminPort,
    xdsDir: layout.xdsDir,
    captureLog: layout.captureLog,
  };
}

export function localDataPlane(config: PavedConfig): EnvoyDataPlane {
  const layout = envoyLayout(config);
  return new EnvoyDataPlane({
    xdsDir: layout.xdsDir,
    socketDir: layout.socketDir,
    adminUrl: layout.adminUrl,
    captureLog: layout.captureLog,
    captureRate: config.gateway.captureRate,
    captureLogMaxBytes: config.gateway.captureMaxMB * 1024 * 1024,
    featureServerPort: config.featureStore.port,
    featureProxyLog: layout.featureProxyLog,
  });
}

import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../adapters/config-loader.js';
import { createLogger } from '../../adapters/logger.js';
import { gatewayDir, gatewayToken } from '../../adapters/router/paved-gateway/client.js';
import { gatewayBuild } from '../../adapters/stack/gateway.js';
import { localDataPlane } from '../../gateway/envoy/layout.js';
import { createControlPlane } from '../../gateway/server.js';

export function registerGatewayCommand(program: Command): void {
  program
    .command('gateway')
    .description(
      "run the gateway's control plane (routes, admin API, window stats, capture) on 127.0.0.1 until SIGINT/SIGTERM; `paved stack up` starts it beside the data plane",
    )
    .action(async () => {
      const config = loadConfig();
      const log = createLogger('paved-gateway');
      const routesFile = path.join(gatewayDir(config), 'routes.json');
      const app = await createControlPlane({
        adminPort: config.gateway.adminPort,
        token: gatewayToken(config),
        routesFile,
        build: gatewayBuild(),
        dataPlane: localDataPlane(config),
        capture: {
          dir: path.join(gatewayDir(config), 'capture'),
          rate: config.gateway.captureRate,
          maxBytes: config.gateway.captureMaxMB * 1024 * 1024,
        },
        log,
      });
      log.info(
        { admin: `http://127.0.0.1:${config.gateway.adminPort}`, routesFile },
        'control plane listening',
      );
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          log.info({ signal }, 'control plane stopping; the data plane keeps serving');
          void app.close().then(() => resolve());
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
    });
}

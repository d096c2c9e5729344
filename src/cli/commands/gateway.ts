import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../adapters/config-loader.js';
import { gatewayDir, gatewayToken } from '../../adapters/gateway-admin.js';
import { createLogger } from '../../adapters/logger.js';
import { gatewayBuild } from '../../adapters/stack/gateway.js';
import { createGateway } from '../../gateway/server.js';

export function registerGatewayCommand(program: Command): void {
  program
    .command('gateway')
    .description('run the serving gateway on 127.0.0.1 until SIGINT/SIGTERM (`paved stack up` starts it)')
    .action(async () => {
      const config = loadConfig();
      const log = createLogger('paved-gateway');
      const routesFile = path.join(gatewayDir(config), 'routes.json');
      const app = await createGateway({
        host: '127.0.0.1',
        port: config.gateway.port,
        token: gatewayToken(config),
        routesFile,
        build: gatewayBuild(),
        capture: {
          dir: path.join(gatewayDir(config), 'capture'),
          rate: config.gateway.captureRate,
          maxBytes: config.gateway.captureMaxMB * 1024 * 1024,
        },
      });
      log.info({ url: `http://127.0.0.1:${config.gateway.port}`, routesFile }, 'gateway listening');
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          log.info({ signal }, 'gateway stopping; in-flight requests finish first');
          void app.close().then(() => resolve());
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
    });
}

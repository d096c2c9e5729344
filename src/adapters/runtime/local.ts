import path from 'node:path';
import type Docker from 'dockerode';
import type { PavedConfig } from '../../domain/config.js';
import { replicaHosts } from '../docker-client.js';
import { loadPolicy } from '../policy-loader.js';
import type { FeatureProxy } from '../router/feature-proxy.js';
import { PavedGatewayRouter } from '../router/paved-gateway/client.js';
import { DockerModelRuntime, type DockerHost } from './docker/docker-runtime.js';

/** Model replicas of this PAVED_HOME: sealed containers on its Docker daemons, feature doors in its gateway. */
export function localModelRuntime(
  config: PavedConfig,
  docker: Docker | DockerHost[] = replicaHosts(config),
  features: FeatureProxy = PavedGatewayRouter.fromConfig(config),
): DockerModelRuntime {
  return new DockerModelRuntime(docker, {
    socketRoot: path.join(config.home, 'replicas'),
    features,
    // Read at each start, as validation reads it: a platform change applies to the next replica.
    allowedTypes: () => loadPolicy().allowed_types,
  });
}

import path from 'node:path';
import { venvRoot, type PavedConfig } from '../domain/config.js';
import { scanPickleArtifact } from '../domain/pickle-scanner.js';
import { LocalAuditStore } from '../adapters/audit-store.js';
import { dockerClient, replicaHosts } from '../adapters/docker-client.js';
import { LocalPackageStore } from '../adapters/package-store.js';
import { loadPolicy } from '../adapters/policy-loader.js';
import { templateArtifacts } from '../adapters/template-catalog.js';
import { RegistryClient } from '../adapters/registry-client.js';
import { createAuditActivities, type AuditActivities } from './audit.js';
import { createDecisionActivities, type DecisionActivities } from './decisions.js';
import { verifySignature } from '../adapters/ssh-signature.js';
import { heartbeating } from './heartbeat.js';
import { createSmokeActivities } from './smoke.js';
import { createContainerizeActivities, type ContainerizeActivities } from './containerize.js';
import { baseImageRef } from '../adapters/stack/base-image.js';
import { venvBin } from '../adapters/stack/python-env.js';
import { featureServerUrl, localFeast } from '../adapters/stack/feature-store.js';
import { FeatureServerClient } from '../adapters/feature-store/feature-server.js';
import { createBindActivities, type BindActivities } from './bind.js';
import { createRolloutActivities, type RolloutActivities } from './rollout.js';
import { createServingActivities, type ServingActivities } from './serving.js';
import { connectClient } from '../adapters/temporal-connection.js';
import { workflowRunning } from '../adapters/workflow-status.js';
import type { Client } from '@temporalio/client';
import { PavedGatewayRouter } from '../adapters/router/paved-gateway/client.js';
import { localModelRuntime } from '../adapters/runtime/local.js';
import { reportStore, storeRoot } from '../adapters/report-store.js';
import { createBiasActivities, type BiasActivities } from './bias.js';
import { createShadowActivities, type ShadowActivities } from './shadow.js';
import { createValidateActivities, type ValidateActivities } from './validate.js';

/** Every activity the release workflow calls. Workflow code imports this type only. */
export type ReleaseActivities = ValidateActivities &
  ContainerizeActivities &
  BindActivities &
  ShadowActivities &
  BiasActivities &
  RolloutActivities &
  ServingActivities &
  DecisionActivities &
  AuditActivities;

export function packageStore(config: PavedConfig): LocalPackageStore {
  return new LocalPackageStore(path.join(storeRoot(config), 'packages'));
}

export function auditStore(config: PavedConfig): LocalAuditStore {
  return new LocalAuditStore(path.join(storeRoot(config), 'audit'));
}

/** All activities the worker registers, wired to the configured adapters, each heartbeating while it runs. */
export function createActivities(config: PavedConfig) {
  const docker = dockerClient(config);
  const router = PavedGatewayRouter.fromConfig(config);
  const runtime = localModelRuntime(config, replicaHosts(config), router);
  const registry = new RegistryClient(config.registry.address);
  const store = packageStore(config);
  let temporal: Promise<Client> | undefined;
  return heartbeating({
    ...createSmokeActivities({ docker, registry }),
    // The policy is read on every validation so a platform change applies to the next release.
    ...createValidateActivities({
      store,
      policy: () => loadPolicy(),
      scanPickle: scanPickleArtifact,
      templates: templateArtifacts,
    }),
    ...createContainerizeActivities({
      docker,
      registry,
      store,
      baseImage: baseImageRef(config),
      cacheDir: config.cacheDir,
      home: config.home,
      python: venvBin(venvRoot(config), 'python'),
    }),
    ...createBindActivities({
      feast: localFeast(config),
      server: new FeatureServerClient(featureServerUrl(config)),
      policy: () => loadPolicy(),
    }),
    ...createShadowActivities({
      docker,
      runtime,
      router,
      packages: store,
      reports: reportStore(config),
      policy: () => loadPolicy(),
      releaseRunning: async (id) => workflowRunning(await (temporal ??= connectClient(config)), id),
    }),
    ...createBiasActivities({
      server: new FeatureServerClient(featureServerUrl(config)),
      reports: reportStore(config),
      policy: () => loadPolicy(),
    }),
    ...createRolloutActivities({
      runtime,
      router,
      policy: () => loadPolicy(),
      reports: reportStore(config),
    }),
    ...createServingActivities({
      // One client for the worker's lifetime, opened on first use.
      client: () => (temporal ??= connectClient(config)),
      runtime,
      router,
      policy: () => loadPolicy(),
    }),
    ...createDecisionActivities({ policy: () => loadPolicy(), verify: verifySignature }),
    ...createAuditActivities(auditStore(config)),
  });
}

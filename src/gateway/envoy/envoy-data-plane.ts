import { setTimeout as sleep } from 'node:timers/promises';
import type { RouteTable } from '../../domain/route.js';
import type { CapturedRequest, DataPlane, VersionCounters } from '../data-plane.js';
import { planApply, type XdsKind } from './apply-plan.js';
import { ADMIN_CLUSTER, LATENCY_BUCKETS_MS } from './bootstrap.js';
import { CaptureLog } from './capture-log.js';
import { DataPlaneAdmin } from './data-plane-admin.js';
import { statName } from './names.js';
import { renderEnvoyConfig, ROUTE_CONFIG_NAME } from './resources.js';
import { XdsFiles } from './xds-files.js';

export interface EnvoyDataPlaneOptions {
  xdsDir: string;
  /** Where the fault hops' sockets are made. */
  socketDir: string;
  adminUrl: string;
  captureLog: string;
  captureRate: number;
  captureLogMaxBytes: number;
  featureServerPort: number;
  /** Where the feature doors log what they refused. */
  featureProxyLog: string;
  /** How long Envoy may take to apply one file before the change is reported as refused. */
  applyTimeoutMs?: number;
}

/** Raised when the config is on disk but no Envoy answers: it serves it when it starts. */
export class DataPlaneDownError extends Error {
  constructor() {
    super(
      'the data plane (Envoy) does not answer; the route is saved and served as soon as it starts (`paved stack up`)',
    );
  }
}

export class EnvoyDataPlane implements DataPlane {
  readonly latencyEdgesMs = LATENCY_BUCKETS_MS;
  private readonly files: XdsFiles;
  private readonly admin: DataPlaneAdmin;
  private readonly capture: CaptureLog;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly opts: EnvoyDataPlaneOptions) {
    this.files = new XdsFiles(opts.xdsDir);
    this.admin = new DataPlaneAdmin(opts.adminUrl);
    this.capture = new CaptureLog(opts.captureLog, opts.captureLogMaxBytes, () => this.admin.reopenLogs());
  }

  apply(table: RouteTable): Promise<void> {
    // One change at a time: each plan starts from what the previous one left on disk.
    const run = this.queue.then(() => this.applyNow(table));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async applyNow(table: RouteTable): Promise<void> {
    const next = renderEnvoyConfig(table, {
      socketDir: this.opts.socketDir,
      captureRate: this.opts.captureRate,
      adminCluster: ADMIN_CLUSTER,
      featureServerPort: this.opts.featureServerPort,
      featureProxyLog: this.opts.featureProxyLog,
    });
    if (!this.files.exists()) {
      for (const kind of ['clusters', 'listeners', 'routes'] as const) this.files.write(kind, next);
      return;
    }
    let down = false;
    for (const write of planApply(this.files.read(), next)) {
      const version = this.files.write(write.kind, write.config);
      if (!down) down = !(await this.waitApplied(write.kind, version));
    }
    if (down) throw new DataPlaneDownError();
  }

  /** True once Envoy reports the version; false when it does not answer at all. */
  private async waitApplied(kind: XdsKind, version: string): Promise<boolean> {
    const deadline = Date.now() + (this.opts.applyTimeoutMs ?? 10_000);
    for (;;) {
      let applied: string | null;
      try {
        applied = (await this.admin.appliedVersions(ROUTE_CONFIG_NAME))[kind];
      } catch {
        return false;
      }
      if (applied === version) return true;
      if (Date.now() > deadline)
        throw new Error(
          `Envoy did not take the new ${kind} (version ${version}, it serves ${applied ?? 'none'}); its log says why`,
        );
      await sleep(25);
    }
  }

  async counters(table: RouteTable): Promise<Map<string, VersionCounters>> {
    const snapshot = await this.admin.clusterStats('paved_[^.]*');
    const out = new Map<string, VersionCounters>();
    for (const [model, route] of Object.entries(table.models))
      for (const b of [route.stable, route.canary, route.shadow]) {
        const c = b && snapshot.get(statName(model, b.version));
        if (c) out.set(`${model}/${b!.version}`, c);
      }
    return out;
  }

  takeCaptured(): Promise<CapturedRequest[]> {
    return this.capture.take();
  }

  async health(): Promise<{ live: boolean; version: string | null }> {
    const live = await this.admin.ready();
    return { live, version: live ? await this.admin.version() : null };
  }
}

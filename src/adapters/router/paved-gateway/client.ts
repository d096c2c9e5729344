import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import type { PavedConfig } from '../../../domain/config.js';
import type { WindowStats } from '../../../domain/rollout.js';
import type { FeatureDoor, ModelRoute, RouteTable } from '../../../domain/route.js';
import type { FeatureProxy } from '../feature-proxy.js';
import type { TrafficRouter } from '../traffic-router.js';

export function gatewayDir(config: PavedConfig): string {
  return path.join(config.home, 'gateway');
}

/** Where callers send V2 requests: the data plane. */
export function gatewayUrl(config: PavedConfig): string {
  return `http://127.0.0.1:${config.gateway.port}`;
}

/** The control plane's admin API. */
export function gatewayAdminUrl(config: PavedConfig): string {
  return `http://127.0.0.1:${config.gateway.adminPort}`;
}

/** The admin token: configured, or created once in PAVED_HOME (owner-only) and reused. */
export function gatewayToken(config: PavedConfig): string {
  if (config.gateway.token) return config.gateway.token;
  const file = path.join(gatewayDir(config), 'admin-token');
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, randomBytes(24).toString('hex'), { mode: 0o600, flag: 'wx' });
  }
  return readFileSync(file, 'utf8').trim();
}

/** The TrafficRouter (and feature proxy) of paved's own gateway: a client of its control plane's admin API. */
export class PavedGatewayRouter implements TrafficRouter, FeatureProxy {
  constructor(
    readonly url: string,
    private readonly token: string,
    /** How long a call may wait for an answer: a status line must not wait as long as a route change. */
    private readonly timeoutMs = 30_000,
  ) {}

  static fromConfig(config: PavedConfig, timeoutMs?: number): PavedGatewayRouter {
    return new PavedGatewayRouter(gatewayAdminUrl(config), gatewayToken(config), timeoutMs);
  }

  private async call<T>(method: 'GET' | 'PUT' | 'DELETE', route: string, body?: unknown): Promise<T> {
    let res;
    try {
      res = await request(`${this.url}${route}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
    } catch (err) {
      throw new Error(
        `gateway control plane ${this.url} does not answer (${(err as Error).message}) — run \`npx paved stack up\``,
      );
    }
    const text = await res.body.text();
    if (res.statusCode !== 200)
      throw new Error(`gateway ${method} ${route}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  }

  routes(): Promise<RouteTable> {
    return this.call('GET', '/admin/routes');
  }

  async listRoutes(): Promise<Record<string, ModelRoute>> {
    return (await this.routes()).models;
  }

  async route(model: string): Promise<ModelRoute | null> {
    return (await this.routes()).models[model] ?? null;
  }

  setRoute(model: string, route: Partial<ModelRoute>): Promise<ModelRoute> {
    return this.call('PUT', `/admin/routes/${model}`, route);
  }

  async removeRoute(model: string): Promise<void> {
    await this.call('DELETE', `/admin/routes/${model}`);
  }

  async stats(model: string, windowMs: number): Promise<Record<string, WindowStats>> {
    const res = await this.call<{ versions: Record<string, WindowStats> }>(
      'GET',
      `/admin/stats/${model}?windowMs=${Math.round(windowMs)}`,
    );
    return res.versions;
  }

  async capturedTraffic(model: string): Promise<string[]> {
    return (await this.call<{ files: string[] }>('GET', `/admin/capture/${model}`)).files;
  }

  async openFeatureDoor(name: string, door: FeatureDoor): Promise<void> {
    await this.call('PUT', `/admin/feature-doors/${name}`, door);
  }

  async closeFeatureDoor(name: string): Promise<void> {
    await this.call('DELETE', `/admin/feature-doors/${name}`);
  }
}

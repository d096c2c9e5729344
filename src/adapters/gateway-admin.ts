import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import type { PavedConfig } from '../domain/config.js';
import type { WindowStats } from '../domain/rollout.js';
import type { ModelRoute, RouteTable } from '../gateway/routes.js';

export function gatewayDir(config: PavedConfig): string {
  return path.join(config.home, 'gateway');
}

export function gatewayUrl(config: PavedConfig): string {
  return `http://127.0.0.1:${config.gateway.port}`;
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

/** Client of the gateway's admin API: what the rollout activities call. */
export class GatewayAdmin {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  static fromConfig(config: PavedConfig): GatewayAdmin {
    return new GatewayAdmin(gatewayUrl(config), gatewayToken(config));
  }

  private async call<T>(method: 'GET' | 'PUT' | 'DELETE', route: string, body?: unknown): Promise<T> {
    let res;
    try {
      res = await request(`${this.url}${route}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
    } catch (err) {
      throw new Error(
        `gateway ${this.url} does not answer (${(err as Error).message}) — run \`npx paved stack up\``,
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

  async route(model: string): Promise<ModelRoute | null> {
    return (await this.routes()).models[model] ?? null;
  }

  setRoute(model: string, route: Partial<ModelRoute>): Promise<ModelRoute> {
    return this.call('PUT', `/admin/routes/${model}`, route);
  }

  async deleteRoute(model: string): Promise<void> {
    await this.call('DELETE', `/admin/routes/${model}`);
  }

  async stats(model: string, windowMs: number): Promise<Record<string, WindowStats>> {
    const res = await this.call<{ versions: Record<string, WindowStats> }>(
      'GET',
      `/admin/stats/${model}?windowMs=${Math.round(windowMs)}`,
    );
    return res.versions;
  }
}

import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { projectPath } from '../../src/adapters/project.js';
import { looseLatencyPolicy } from '../support/rollout-policy.js';
import { paved } from '../support/cli.js';
import { freePort } from '../support/free-port.js';

describe('paved stack status', () => {
  it('--json lists every part of the stack as healthy, the data plane and its control plane too', async () => {
    const res = await paved(['stack', 'status', '--json']);
    expect(res.code, res.stderr).toBe(0);
    const status = JSON.parse(res.stdout) as {
      healthy: boolean;
      parts: Array<{ part: string; healthy: boolean; address: string }>;
    };
    expect(status.healthy).toBe(true);
    expect(status.parts.map((p) => [p.part, p.healthy])).toEqual([
      ['docker', true],
      ['registry', true],
      ['temporal', true],
      ['base-image', true],
      ['feature-store', true],
      ['envoy', true],
      ['gateway', true],
    ]);
  });

  it('prints a table a person can read', async () => {
    const res = await paved(['stack', 'status']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^PART\s+ADDRESS\s+VERSION\s+HEALTH\s+DETAIL/);
    expect(res.stdout).toMatch(/temporal\s+127\.0\.0\.1:7233\s+\S+\s+healthy/);
  });

  it('a bad setting stops the command with the variable name and the fix', async () => {
    const res = await paved(['stack', 'status'], { PAVED_TEMPORAL_UI_PORT: 'abc' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('PAVED_TEMPORAL_UI_PORT="abc"');
    expect(res.stderr).toContain('Fix:');
    expect(res.stderr).not.toMatch(/at .*\.ts:\d+/); // a message, not a stack trace
  });
});

describe('paved smoke', () => {
  it('pushes the base image through a workflow and prints the digest and the Temporal UI link', async () => {
    const res = await paved(['smoke']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('stack smoke passed');
    expect(res.stdout).toMatch(/registry holds\s+sha256:[0-9a-f]{64}/);
    expect(res.stdout).toMatch(
      /Temporal UI\s+http:\/\/127\.0\.0\.1:8233\/namespaces\/default\/workflows\/stack-smoke/,
    );
  });
});

describe('paved demo', () => {
  it('releases examples/arrests, ends with exit 0 and the UI link, then serves it by entity key', async () => {
    // The demo's whole path with the shipped policy, except latency budgets: this
    // test shares the machine with the other suites' containers and traffic.
    // test/integration/shadow-bias.test.ts holds the real budgets.
    const res = await paved(['demo'], { PAVED_POLICY: looseLatencyPolicy() });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(
      /^released arrests\/[0-9a-f]{12}: passed validate, containerize, bind, shadow, bias, rollout/m,
    );
    expect(res.stdout).toMatch(
      /Temporal UI\s+http:\/\/127\.0\.0\.1:8233\/namespaces\/default\/workflows\/release%2Farrests%2F[0-9a-f]{12}/,
    );
    expect(res.stdout).toMatch(/^ {2}report {7}\/\S+\/reports\/arrests\/[0-9a-f]{12}\/report\.html$/m);
    expect(res.stdout).toContain(
      'served by person_id from feature service arrests_model (http://127.0.0.1:6566):',
    );
    // The entities of examples/arrests/sample-request-entities.json, each with a label and
    // a probability that agree: the template's label is the classifier's predict(), the
    // class of the larger probability, so 1 above 0.5 and 0 up to it (printed to 4 places).
    for (const person of ['1883', '722']) {
      const row = new RegExp(`^${person}\\s+(\\S+)\\s+(\\S+)$`, 'm').exec(res.stdout);
      expect(row, `no row for person ${person}`).not.toBeNull();
      const [label, probability] = [Number(row![1]), Number(row![2])];
      expect([0, 1]).toContain(label);
      expect(probability).toBeGreaterThanOrEqual(0);
      expect(probability).toBeLessThanOrEqual(1);
      if (label === 1) expect(probability).toBeGreaterThanOrEqual(0.5);
      else expect(probability).toBeLessThanOrEqual(0.5);
    }

    const version = /^released arrests\/([0-9a-f]{12})/m.exec(res.stdout)![1]!;
    const missing = await paved(['try', `arrests/${version}`, '--entity', '1883', '999999']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      'paved: the model answered HTTP 404: person_id 999999: not found in feature service arrests_model\n',
    );
  });
});

describe('paved worker', () => {
  it('serves Temporal metrics on 127.0.0.1 and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [projectPath('bin', 'paved.js'), 'worker'], {
      env: { ...process.env, PAVED_METRICS_PORT: String(port), PAVED_TASK_QUEUE: `e2e-${port}` },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let logs = '';
    child.stderr.on('data', (d: Buffer) => (logs += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      let metrics = '';
      for (let i = 0; i < 120 && !(metrics.includes('temporal_') && logs.includes('worker started')); i++) {
        await sleep(250);
        metrics = await fetch(`http://127.0.0.1:${port}/metrics`).then(
          (r) => r.text(),
          () => '',
        );
      }
      expect(metrics).toContain('temporal_');
      expect(logs).toContain('"msg":"worker started"');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(logs).toContain('"msg":"worker stopped"');
  });
});

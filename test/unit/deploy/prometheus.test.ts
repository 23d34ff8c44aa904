import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { MikroORM } from '@mikro-orm/postgresql';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.js';
import { createMetrics, registerDatabaseMetrics } from '../../../src/metrics/index.js';

const dir = new URL('../../../deploy/', import.meta.url).pathname;
const PROMTOOL = '/usr/bin/promtool';

/** Every series name the product exposes (histograms as their _bucket, _sum and _count). */
function exposedNames(): Set<string> {
  const metrics = createMetrics();
  // Registering only: the gauges' queries run at scrape time, which this test never does.
  registerDatabaseMetrics(metrics, { orm: {} as MikroORM, logger: createLogger({ level: 'silent' }) });
  const names = new Set<string>();
  for (const m of metrics.registry.getMetricsAsArray()) {
    names.add(m.name);
    if ((m as unknown as { type: string }).type === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${m.name}${suffix}`);
  }
  return names;
}

function promtool(...args: string[]) {
  expect(existsSync(PROMTOOL), `${PROMTOOL} is missing: apt-get install prometheus`).toBe(true);
  const run = spawnSync(PROMTOOL, args, { cwd: `${dir}prometheus`, encoding: 'utf8' });
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
}

describe('deploy/: Prometheus and Grafana', () => {
  it('when promtool checks the scrape config and the rules, then both are valid', () => {
    const config = promtool('check', 'config', 'prometheus.yml');
    expect(config.ok, config.output).toBe(true);
  });

  it('when promtool runs the alert unit tests, then each alert fires on its series and only then', () => {
    const tested = promtool('test', 'rules', 'alerts.test.yml');
    expect(tested.ok, tested.output).toBe(true);
  });

  it('when the alerts and the Grafana dashboard name stsync_ metrics, then each is one the product exposes', () => {
    const exposed = exposedNames();
    const files = ['prometheus/alerts.yml', 'grafana/stsync-dashboard.json'];
    for (const file of files) {
      const text = readFileSync(`${dir}${file}`, 'utf8');
      const used = new Set(text.match(/\bstsync_[a-z0-9_]+/g) ?? []);
      expect(used.size, file).toBeGreaterThan(5);
      for (const name of used)
        expect(exposed.has(name), `${file} names ${name}, which nothing exposes`).toBe(true);
    }
    const dashboard = JSON.parse(readFileSync(`${dir}grafana/stsync-dashboard.json`, 'utf8'));
    expect(dashboard.panels.length).toBeGreaterThan(10);
  });
});

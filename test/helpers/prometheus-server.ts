import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/dev/dev-server';
import { goTool } from './go-tools';

/** One series of an instant query's answer. */
export interface PromSeries {
  metric: Record<string, string>;
  value: [number, string];
}

/** A real Prometheus (built by scripts/ensure-go-tools.sh) scraping the given targets every second. */
export interface PrometheusServer {
  url: string;
  /** `/api/v1/query`: throws with Prometheus's own error when the expression does not parse. */
  query(expr: string): Promise<PromSeries[]>;
  /** `/api/v1/rules`: each alerting rule's name and state (`inactive`, `pending`, `firing`). */
  alertStates(): Promise<Map<string, string>>;
  stop(): Promise<void>;
}

export async function startPrometheus(options: {
  jobs: Record<string, string[]>;
  ruleFiles?: string[];
}): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), 'aeo-prometheus-'));
  const scrapeConfigs = Object.entries(options.jobs).map(([job, targets]) => ({
    job_name: job,
    static_configs: [{ targets }],
  }));
  const config = {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: options.ruleFiles ?? [],
    scrape_configs: scrapeConfigs,
  };
  writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config)); // JSON is YAML
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    goTool('prometheus'),
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] }
  );
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode}:\n${output}`);
    const ok = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`prometheus not ready after 30 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error ?? res.status}`);
    return body.data;
  };
  return {
    url,
    async query(expr) {
      const data = await api<{ resultType: string; result: PromSeries[] }>(
        `/api/v1/query?query=${encodeURIComponent(expr)}`
      );
      return data.result;
    },
    async alertStates() {
      const data = await api<{ groups: { rules: { type: string; name: string; state?: string }[] }[] }>(
        '/api/v1/rules?type=alert'
      );
      return new Map(data.groups.flatMap((g) => g.rules).map((r) => [r.name, r.state ?? 'inactive']));
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

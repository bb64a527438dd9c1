import { createServer } from 'node:http';
import { listen, type Listening } from '../net/listen';
import type { ReadinessView } from '../temporal/worker-readiness';

/**
 * The worker's probe endpoints (`WORKER_HEALTH_ADDRESS`), apart from `/metrics`, which the SDK's runtime serves:
 * - `GET /readyz`: 200 while the worker polls its task queue (as the server reports it), else 503, with the
 *   reason as JSON. A load balancer or Kubernetes takes an unready worker out of rotation; nothing is routed to a
 *   worker, so its effect is on rollouts (`maxUnavailable`) and on alerts.
 * - `GET /livez`: 200 while the process answers at all, draining included, so a liveness probe never kills a
 *   worker that is finishing its in-flight tasks after SIGTERM.
 */
export async function startHealthServer(address: string, readiness: () => ReadinessView): Promise<Listening> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { error: 'GET only' });
    if (path === '/livez') return send(200, { live: true });
    if (path === '/readyz') {
      const view = readiness();
      return send(view.ready ? 200 : 503, view);
    }
    send(404, { error: 'not found: /readyz or /livez' });
  });
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(address);
  if (!m) throw new Error(`health address ${address}: expected host:port`);
  return listen(server, { host: m[1] ?? m[2], port: Number(m[3]) });
}

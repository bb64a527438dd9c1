import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { once } from 'node:events';

/** One exchange seen by the proxy: the request as the client sent it and the response as Atlas (the simulator) answered. */
export interface Exchange {
  method: string;
  url: string;
  requestHeaders: IncomingHttpHeaders;
  requestBody: string;
  status: number;
  responseHeaders: IncomingHttpHeaders;
  responseBody: string;
}

/**
 * A loopback HTTP proxy that forwards everything to `target` and records both sides, so a test can check the
 * client's requests and the server's responses against the OpenAPI document.
 */
export async function startRecordingProxy(
  target: string
): Promise<{ url: string; exchanges: Exchange[]; close(): Promise<void> }> {
  const exchanges: Exchange[] = [];
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const requestBody = Buffer.concat(chunks).toString();
      const forward = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
        },
        (up) => {
          const body: Buffer[] = [];
          up.on('data', (c: Buffer) => body.push(c));
          up.on('end', () => {
            const responseBody = Buffer.concat(body).toString();
            exchanges.push({
              method: req.method ?? 'GET',
              url: req.url ?? '/',
              requestHeaders: req.headers,
              requestBody,
              status: up.statusCode ?? 0,
              responseHeaders: up.headers,
              responseBody,
            });
            res.writeHead(up.statusCode ?? 502, up.headers);
            res.end(responseBody);
          });
        }
      );
      forward.on('error', () => res.destroy());
      forward.end(requestBody);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

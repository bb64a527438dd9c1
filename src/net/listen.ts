import { once } from 'node:events';
import type { Server as HttpServer } from 'node:http';
import { Server as TlsServer } from 'node:tls';
import { createServer, type AddressInfo, type Server } from 'node:net';

/** A server listening on loopback or another interface, as every server the project starts reports it. */
export interface Listening {
  host: string;
  port: number;
  /** `http://host:port` (`https://` for a TLS server; IPv6 hosts in brackets), without a trailing slash. */
  url: string;
  /** Stops listening and drops open connections (keep-alive ones too), so the port is free when it resolves. */
  readonly close: () => Promise<void>;
}

/**
 * Starts `server` listening on `host:port` (default `127.0.0.1`, port 0: any free one) and resolves once it is
 * bound; rejects with the listen error (e.g. `EADDRINUSE`) instead of emitting it.
 */
export async function listen(server: HttpServer, options: { host?: string; port?: number } = {}): Promise<Listening> {
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    host,
    port,
    url: `${server instanceof TlsServer ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** A port nobody listens on right now (the OS picks it), for a server started by another process. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const probe: Server = createServer();
  probe.listen(0, host);
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  probe.close();
  await once(probe, 'close');
  return port;
}

/** `preferred` when it is free on `host`, otherwise any free port. */
export async function preferredPort(preferred: number, host = '127.0.0.1'): Promise<number> {
  const probe: Server = createServer();
  const free = await new Promise<boolean>((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen(preferred, host, () => probe.close(() => resolve(true)));
  });
  return free ? preferred : freePort(host);
}

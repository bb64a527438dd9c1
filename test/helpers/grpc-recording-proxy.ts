import { once } from 'node:events';
import { connect, constants, createServer, type IncomingHttpHeaders, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';

/** One gRPC call as the client sent it: the method and the `authorization` header (the SDK's API key). */
export interface RecordedGrpcCall {
  method: string;
  authorization: string | undefined;
}

/**
 * A loopback gRPC proxy (HTTP/2 without TLS, as the dev server speaks it) in front of a Temporal frontend: every
 * call is forwarded unchanged, request and response streams, headers and trailers, and recorded with its
 * `authorization` header as it arrived, so a test sees which API key the SDK really sends. The dev server itself
 * ignores API keys.
 */
export async function startGrpcRecordingProxy(
  target: string
): Promise<{ address: string; calls: RecordedGrpcCall[]; close(): Promise<void> }> {
  const calls: RecordedGrpcCall[] = [];
  const upstream = connect(`http://${target}`);
  upstream.on('error', () => undefined);
  const server = createServer();
  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream, headers) => {
    const path = String(headers[':path']);
    calls.push({ method: path.slice(path.lastIndexOf('/') + 1), authorization: headers.authorization });
    const forwarded: IncomingHttpHeaders = {};
    for (const [name, value] of Object.entries(headers)) {
      if (!name.startsWith(':') || name === ':path' || name === ':method') forwarded[name] = value;
    }
    const call = upstream.request(forwarded);
    let trailers: IncomingHttpHeaders = {};
    call.on('response', (responseHeaders, flags) => {
      if (stream.destroyed) return;
      // A trailers-only answer (a gRPC error without a body) ends the stream with its headers.
      const endStream = (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0;
      stream.respond(responseHeaders, endStream ? { endStream: true } : { waitForTrailers: true });
    });
    call.on('trailers', (t: IncomingHttpHeaders) => {
      trailers = t;
    });
    stream.on('wantTrailers', () => stream.sendTrailers(trailers));
    call.on('data', (chunk: Buffer) => !stream.destroyed && stream.write(chunk));
    call.on('end', () => {
      if (!stream.destroyed && !stream.writableEnded) stream.end();
    });
    call.on('error', () => stream.close(constants.NGHTTP2_INTERNAL_ERROR));
    stream.on('close', () => call.close());
    stream.on('error', () => call.close());
    stream.pipe(call);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    async close() {
      const closed = once(server, 'close');
      server.close();
      for (const session of sessions) session.destroy();
      upstream.destroy();
      await closed;
    },
  };
}

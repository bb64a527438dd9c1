import { once } from 'node:events';
import { createServer, type Http2Server, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { temporal } from '@temporalio/proto';

/** What a scripted method answers: a response message (encoded by the caller) or a gRPC status. */
export type FakeAnswer = Uint8Array | { code: number; message: string };

/**
 * A stand-in for a Temporal frontend: plain HTTP/2 speaking gRPC's unary framing, so the SDK's real client
 * (NativeConnection, through the Rust core) talks to it and throws its real error objects. `GetSystemInfo`
 * answers OK unless scripted; a method without a script answers UNIMPLEMENTED. Each call is recorded.
 */
export class FakeFrontend {
  readonly calls: { method: string; request: Buffer }[] = [];
  private readonly scripts = new Map<string, (request: Buffer) => FakeAnswer>();

  private constructor(
    private readonly server: Http2Server,
    readonly address: string
  ) {}

  static async start(): Promise<FakeFrontend> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const fake = new FakeFrontend(server, `127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('stream', (stream, headers) => fake.handle(stream, String(headers[':path'])));
    return fake;
  }

  /** Answers `method` (e.g. `DescribeTaskQueue`) with `answer(request)` from now on. */
  on(method: string, answer: (request: Buffer) => FakeAnswer): this {
    this.scripts.set(method, answer);
    return this;
  }

  callsOf(method: string): Buffer[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.request);
  }

  async close(): Promise<void> {
    const closed = once(this.server, 'close');
    this.server.close();
    // Open sessions keep the server up; the SDK's connection may outlive the test.
    (this.server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    await closed;
  }

  private handle(stream: ServerHttp2Stream, path: string): void {
    const method = path.slice(path.lastIndexOf('/') + 1);
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      // gRPC message framing: 1 byte compressed flag, 4 bytes big-endian length, the message (the SDK gzips it).
      const message = body.length >= 5 ? body.subarray(5, 5 + body.readUInt32BE(1)) : Buffer.alloc(0);
      const request = body[0] === 1 ? gunzipSync(message) : message;
      this.calls.push({ method, request });
      const script =
        this.scripts.get(method) ??
        (method === 'GetSystemInfo'
          ? () => temporal.api.workflowservice.v1.GetSystemInfoResponse.encode({}).finish()
          : () => ({ code: 12, message: `${method} is not scripted` }));
      const answer = script(request);
      if (answer instanceof Uint8Array) {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        const header = Buffer.alloc(5);
        header.writeUInt32BE(answer.length, 1);
        stream.end(Buffer.concat([header, answer]));
      } else {
        stream.respond(
          {
            ':status': 200,
            'content-type': 'application/grpc',
            'grpc-status': String(answer.code),
            'grpc-message': encodeURIComponent(answer.message),
          },
          { endStream: true }
        );
      }
    });
  }
}

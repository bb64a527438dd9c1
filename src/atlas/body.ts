import type { Dispatcher } from 'undici';
import { AtlasResponseTooLargeError, type AtlasRequestRef } from './errors';

/**
 * The largest Atlas response body the client reads, by default: 8 MiB. A full page of 500 export jobs or snapshots
 * is well under 1 MiB, so only a broken or hostile server (or a proxy's endless page at a wrong `ATLAS_BASE_URL`)
 * sends more; reading it whole would cost the worker memory without bound.
 */
export const DEFAULT_ATLAS_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/**
 * Reads a response body as UTF-8 text (a BOM dropped, as undici's `text()` does), never holding more than `maxBytes`
 * of it: a `Content-Length` above the limit is refused before any byte is read, and a body without one is read
 * chunk by chunk and dropped (the connection closed) as soon as it passes the limit.
 *
 * @throws AtlasResponseTooLargeError
 */
export async function readLimitedText(
  res: Pick<Dispatcher.ResponseData, 'statusCode' | 'headers' | 'body'>,
  maxBytes: number,
  ref: AtlasRequestRef
): Promise<string> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    res.body.destroy();
    throw new AtlasResponseTooLargeError(ref, res.statusCode, maxBytes, { declaredBytes: declared });
  }
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > maxBytes) {
      res.body.destroy();
      throw new AtlasResponseTooLargeError(ref, res.statusCode, maxBytes, { receivedBytes: received });
    }
    chunks.push(chunk);
  }
  return new TextDecoder().decode(Buffer.concat(chunks, received));
}

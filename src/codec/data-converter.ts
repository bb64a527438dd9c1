import { extname, join } from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { AesGcmPayloadCodec } from './encryption-codec';
import type { KeyRing } from './key-ring';

/** The module exporting the failure converter that encodes messages and stack traces (see failure-converter.ts). */
export function encodingFailureConverterPath(): string {
  // With the extension this file has (`.ts` under tsx and vitest, `.js` when built), which `require` needs there.
  return join(__dirname, `failure-converter${extname(__filename)}`);
}

/**
 * The data converter for workers and clients: the SDK's default, plus AES-256-GCM payload encryption when a
 * key ring is configured. With keys, failure messages and stack traces are encoded too (they can quote Atlas's
 * free text), so they are encrypted like any payload. Workers and clients must use the same keys to read each
 * other's payloads and failures.
 */
export function payloadDataConverter(keys: KeyRing | undefined): DataConverter {
  return keys
    ? { payloadCodecs: [new AesGcmPayloadCodec(keys)], failureConverterPath: encodingFailureConverterPath() }
    : { payloadCodecs: [] };
}

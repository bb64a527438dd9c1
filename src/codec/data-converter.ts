import type { DataConverter } from '@temporalio/common';
import { AesGcmPayloadCodec } from './encryption-codec';
import type { KeyRing } from './key-ring';

/**
 * The data converter for workers and clients: the SDK's default, plus AES-256-GCM payload encryption when a
 * key ring is configured. Workers and clients must use the same keys to read each other's payloads.
 */
export function payloadDataConverter(keys: KeyRing | undefined): DataConverter {
  return { payloadCodecs: keys ? [new AesGcmPayloadCodec(keys)] : [] };
}

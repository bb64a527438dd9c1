import type { Payload } from '@temporalio/common';
import { z } from 'zod';

/**
 * `temporal.api.common.v1.Payloads` in proto3 JSON, the body of the remote codec protocol: every bytes field
 * (`data` and each metadata value) is base64, standard or URL-safe alphabet, padding optional.
 */
const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'must be base64');
const jsonPayloadSchema = z.object({
  metadata: z.record(z.string(), base64).nullish(),
  data: base64.nullish(),
});
export const jsonPayloadsSchema = z.object({ payloads: z.array(jsonPayloadSchema) });

export type JsonPayload = z.infer<typeof jsonPayloadSchema>;

const fromBase64 = (s: string): Uint8Array => Buffer.from(s, 'base64');
const toBase64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

export function payloadFromJson(p: JsonPayload): Payload {
  return {
    metadata: p.metadata ? Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, fromBase64(v)])) : {},
    data: p.data ? fromBase64(p.data) : new Uint8Array(),
  };
}

export function payloadToJson(p: Payload): { metadata: Record<string, string>; data: string } {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, toBase64(v)])),
    data: toBase64(p.data ?? new Uint8Array()),
  };
}

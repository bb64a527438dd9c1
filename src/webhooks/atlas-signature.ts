import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header Atlas signs a webhook's body in, when the alert's webhook notification has a secret. */
export const ATLAS_SIGNATURE_HEADER = 'x-mms-signature';

/** Base64 HMAC-SHA1 of `body` (the raw bytes as sent) with `secret`: the value Atlas puts in `X-MMS-Signature`. */
export function signAtlasWebhook(secret: string, body: Uint8Array | string): string {
  return createHmac('sha1', secret).update(body).digest('base64');
}

/**
 * Whether `signature` (the `X-MMS-Signature` header as received) is the signature of `body` with `secret`.
 * Compared in constant time over the decoded digests: a header that is missing, not base64 of 20 bytes, or of
 * another length is refused before any comparison, and only equal-length buffers reach `timingSafeEqual`.
 */
export function verifyAtlasSignature(
  secret: string,
  body: Uint8Array,
  signature: string | readonly string[] | undefined
): boolean {
  if (typeof signature !== 'string') return false;
  const given = signature.trim();
  // Strict base64 of a 20-byte digest: 28 characters ending in one '='. Buffer.from would skip other characters.
  if (!/^[A-Za-z0-9+/]{27}=$/.test(given)) return false;
  const expected = createHmac('sha1', secret).update(body).digest();
  const received = Buffer.from(given, 'base64');
  return received.length === expected.length && timingSafeEqual(received, expected);
}

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { KeyRing } from './key-ring';

/** `encoding` metadata of a payload this codec encrypted. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Metadata naming the key a payload was encrypted with (in clear). */
export const ENCRYPTION_KEY_ID_METADATA = 'encryption-key-id';

const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/**
 * Thrown by {@link AesGcmPayloadCodec.decode} when an encrypted payload cannot be decrypted: no key id, a key
 * id this process has no key for, or a payload that fails authentication (altered, or another key). The
 * message names the key id, never key material; `keyId` is undefined when the payload carried none.
 */
export class PayloadDecryptionError extends Error {
  override readonly name = 'PayloadDecryptionError';
  constructor(
    message: string,
    readonly keyId: string | undefined,
    options?: ErrorOptions
  ) {
    super(message, options);
  }
}

/**
 * Temporal payload codec that encrypts each payload with AES-256-GCM under the key ring's current key. The
 * whole original payload (metadata and data, serialized as a `temporal.api.common.v1.Payload` message) is
 * the plaintext, so its encoding survives; the result is `iv (12 bytes) || ciphertext || tag (16 bytes)`
 * with metadata `encoding: binary/encrypted` and `encryption-key-id: <id>`, the layout of Temporal's
 * encryption samples. Decoding picks the key by the payload's key id, so keys rotated out of "current"
 * still decrypt, and passes payloads that are not encrypted through unchanged, so turning encryption on
 * does not break histories written before (unless `requireEncrypted`, which refuses them).
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly requireEncrypted: boolean;

  /**
   * @param options.requireEncrypted refuse to decode a payload that is not encrypted, so cleartext written by a
   *   starter without keys fails loudly instead of passing through; default: the ring's `requireEncrypted`
   *   (`PAYLOAD_ENCRYPTION_REQUIRED`)
   */
  constructor(
    private readonly keys: KeyRing,
    options: { requireEncrypted?: boolean } = {}
  ) {
    this.requireEncrypted = options.requireEncrypted ?? keys.requireEncrypted;
  }

  encode(payloads: Payload[]): Promise<Payload[]> {
    const keyId = this.keys.currentKeyId;
    const key = this.keys.key(keyId)!;
    return Promise.resolve(
      payloads.map((payload) => ({
        metadata: {
          [METADATA_ENCODING_KEY]: utf8.encode(ENCRYPTED_ENCODING),
          [ENCRYPTION_KEY_ID_METADATA]: utf8.encode(keyId),
        },
        data: encrypt(temporal.api.common.v1.Payload.encode(payload).finish(), key),
      }))
    );
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    // A throw inside the executor becomes the rejection.
    return new Promise((resolve) => resolve(payloads.map((p) => this.decodeOne(p))));
  }

  private decodeOne(payload: Payload): Payload {
    const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
    if (!encoding || fromUtf8.decode(encoding) !== ENCRYPTED_ENCODING) {
      if (!this.requireEncrypted) return payload;
      throw new PayloadDecryptionError(
        'Refusing a payload that is not encrypted: encryption is required (PAYLOAD_ENCRYPTION_REQUIRED)',
        undefined
      );
    }
    const keyIdBytes = payload.metadata?.[ENCRYPTION_KEY_ID_METADATA];
    if (!keyIdBytes) {
      throw new PayloadDecryptionError(
        `Cannot decrypt payload: it has no ${ENCRYPTION_KEY_ID_METADATA} metadata`,
        undefined
      );
    }
    const keyId = fromUtf8.decode(keyIdBytes);
    const shown = JSON.stringify(keyId.length > 64 ? `${keyId.slice(0, 64)}…` : keyId);
    const key = this.keys.key(keyId);
    if (!key) {
      throw new PayloadDecryptionError(
        `Cannot decrypt payload: encryption key id ${shown} is not configured (configured key ids: ${this.keys.keyIds.join(', ')})`,
        keyId
      );
    }
    const data = payload.data ?? new Uint8Array();
    if (data.length < IV_BYTES + TAG_BYTES) {
      throw new PayloadDecryptionError(
        `Cannot decrypt payload with encryption key id ${shown}: ${data.length} bytes is too short`,
        keyId
      );
    }
    let plaintext: Buffer;
    try {
      plaintext = decrypt(data, key);
    } catch (err) {
      throw new PayloadDecryptionError(
        `Cannot decrypt payload with encryption key id ${shown}: authentication failed (the payload was altered, or was not encrypted with this key)`,
        keyId,
        { cause: err }
      );
    }
    try {
      return temporal.api.common.v1.Payload.decode(plaintext);
    } catch (err) {
      throw new PayloadDecryptionError(
        `Payload decrypted with encryption key id ${shown} is not a Temporal payload`,
        keyId,
        { cause: err }
      );
    }
  }
}

function encrypt(plaintext: Uint8Array, key: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(CIPHER, key, iv, { authTagLength: TAG_BYTES });
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, ciphertext, cipher.getAuthTag()]);
}

function decrypt(data: Uint8Array, key: Buffer): Buffer {
  const iv = data.subarray(0, IV_BYTES);
  const ciphertext = data.subarray(IV_BYTES, data.length - TAG_BYTES);
  const tag = data.subarray(data.length - TAG_BYTES);
  const decipher = createDecipheriv(CIPHER, key, iv, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

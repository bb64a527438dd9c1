import { inspect } from 'node:util';

/** AES-256 keys are 32 bytes. */
export const AES_256_KEY_BYTES = 32;

/** Key ids travel in payload metadata, in clear: short, printable, never derived from the key. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The payload encryption keys, by id, and the id new payloads are encrypted with. Older keys stay in the
 * ring so payloads written before a rotation keep decrypting. The key bytes live in a private field: they
 * do not show in `console.log`, `util.inspect` or `JSON.stringify` of the ring (or of a config holding it).
 */
export class KeyRing {
  readonly #keys: ReadonlyMap<string, Buffer>;
  readonly currentKeyId: string;
  /**
   * Payloads that are not encrypted are refused on decode (`PAYLOAD_ENCRYPTION_REQUIRED=true`), by every codec
   * made from this ring: the worker's, a client's, the codec server's.
   */
  readonly requireEncrypted: boolean;

  /** @throws Error naming the key id (never the key) when a key is not 32 bytes or `currentKeyId` is not a key */
  constructor(
    keys: Iterable<readonly [id: string, key: Uint8Array]>,
    currentKeyId: string,
    options: { requireEncrypted?: boolean } = {}
  ) {
    const map = new Map<string, Buffer>();
    for (const [id, key] of keys) {
      if (!KEY_ID_PATTERN.test(id)) throw new Error(`Invalid key id "${id}": use 1-64 of A-Z a-z 0-9 . _ -`);
      if (key.length !== AES_256_KEY_BYTES) {
        throw new Error(`Key "${id}" is ${key.length} bytes; AES-256 needs ${AES_256_KEY_BYTES}`);
      }
      if (map.has(id)) throw new Error(`Key id "${id}" appears more than once`);
      map.set(id, Buffer.from(key));
    }
    if (!map.has(currentKeyId)) throw new Error(`Current key id "${currentKeyId}" is not one of the keys`);
    this.#keys = map;
    this.currentKeyId = currentKeyId;
    this.requireEncrypted = options.requireEncrypted ?? false;
  }

  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  /** The key with this id, or undefined. */
  key(id: string): Buffer | undefined {
    return this.#keys.get(id);
  }

  /** The text forms a key could be written in (base64, base64url, hex), for a log redactor; never log these. */
  redactionForms(): string[] {
    return [...this.#keys.values()].flatMap((k) => [k.toString('base64'), k.toString('base64url'), k.toString('hex')]);
  }

  /** What the start-up logs show: key ids, never keys; `requireEncrypted` only when on. */
  toJSON(): { currentKeyId: string; keyIds: string[]; requireEncrypted?: true } {
    return {
      currentKeyId: this.currentKeyId,
      keyIds: this.keyIds,
      ...(this.requireEncrypted ? { requireEncrypted: true as const } : {}),
    };
  }

  [inspect.custom](): string {
    const required = this.requireEncrypted ? ', requireEncrypted: true' : '';
    return `KeyRing { currentKeyId: '${this.currentKeyId}', keyIds: [${this.keyIds.map((id) => `'${id}'`).join(', ')}]${required} }`;
  }
}

import { z } from 'zod';
import { AES_256_KEY_BYTES, KEY_ID_PATTERN, KeyRing } from '../codec/key-ring';
import { describeIssues } from '../shared/contract/export-contract';
import { boolString, optionalEnv, optionalString, parseEnv } from './env';
import { ConfigError } from './errors';
import { readSecretFile } from './secret-files';

/** Payload encryption (`PAYLOAD_ENCRYPTION_*`): the keys the worker, the CLI and the codec server share. */

const KEYS_VAR = 'env.PAYLOAD_ENCRYPTION_KEYS';
const KEY_FILE_VAR = 'env.PAYLOAD_ENCRYPTION_KEY_FILE';
const KEY_ID_VAR = 'env.PAYLOAD_ENCRYPTION_KEY_ID';
const keyIdSchema = z.string().regex(KEY_ID_PATTERN, 'must be 1-64 characters of A-Z a-z 0-9 . _ -');

const payloadEncryptionEnvSchema = z.object({
  PAYLOAD_ENCRYPTION_KEYS: optionalString,
  PAYLOAD_ENCRYPTION_KEY_FILE: optionalString,
  PAYLOAD_ENCRYPTION_KEY_ID: optionalEnv(keyIdSchema),
  /** Refuse to start without keys, and refuse to decode payloads that are not encrypted. */
  PAYLOAD_ENCRYPTION_REQUIRED: optionalString.pipe(boolString),
});

/** A key as base64 (standard or URL-safe alphabet); issues say what is wrong with it, never what it is. */
const base64KeySchema = z
  .string()
  .regex(/^(?:[A-Za-z0-9+/]+={0,2}|[A-Za-z0-9_-]+)$/, 'must be base64')
  .transform((s, ctx) => {
    const bytes = Buffer.from(s, s.includes('-') || s.includes('_') ? 'base64url' : 'base64');
    if (bytes.length !== AES_256_KEY_BYTES) {
      ctx.addIssue({
        code: 'custom',
        message: `must decode to ${AES_256_KEY_BYTES} bytes (AES-256), not ${bytes.length}`,
      });
      return z.NEVER;
    }
    return bytes;
  });
const keyEntrySchema = z.strictObject({ id: keyIdSchema, key: base64KeySchema });
const keyFileJsonSchema = z.strictObject({
  currentKeyId: keyIdSchema.optional(),
  keys: z.array(z.unknown()).min(1, 'must list at least one key'),
});

/** Every variable of payload encryption. */
export const PAYLOAD_ENCRYPTION_VARIABLES: readonly string[] = Object.keys(payloadEncryptionEnvSchema.shape);

/** Entries `id:base64key`; `where(i)` names entry i in messages (e.g. `env.PAYLOAD_ENCRYPTION_KEYS[0]`). */
function parseKeyEntries(entries: unknown[], where: (i: number) => string): [string, Buffer][] {
  const problems: string[] = [];
  const keys: [string, Buffer][] = [];
  entries.forEach((entry, i) => {
    const r = keyEntrySchema.safeParse(entry);
    if (r.success) keys.push([r.data.id, r.data.key]);
    else problems.push(describeIssues(r.error.issues, where(i)));
  });
  const ids = keys.map(([id]) => id);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate !== undefined) problems.push(`${where(ids.lastIndexOf(duplicate))}: key id "${duplicate}" is repeated`);
  if (problems.length) throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  return keys;
}

/** `id:base64key` split at the first colon, as the entry schema's input. */
function splitEntry(text: string): { id: string; key: string } | string {
  const colon = text.indexOf(':');
  return colon < 0 ? 'not id:base64key' : { id: text.slice(0, colon).trim(), key: text.slice(colon + 1).trim() };
}

function entriesOrThrow(entries: ({ id: string; key: string } | string)[], where: (i: number) => string) {
  const malformed = entries.findIndex((e) => typeof e === 'string');
  if (malformed >= 0) {
    throw new ConfigError(`Invalid configuration: ${where(malformed)}: must be id:base64key`);
  }
  return parseKeyEntries(entries, where);
}

/** The key file: JSON `{"currentKeyId"?, "keys": [{"id", "key"}]}`, or lines `id:base64key` (`#` comments). */
function readKeyFile(path: string): { keys: [string, Buffer][]; currentKeyId: string | undefined } {
  // The owner's alone, as every secret file (`readSecretFile`).
  const text = readSecretFile('PAYLOAD_ENCRYPTION_KEY_FILE', path);
  if (text.trimStart().startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // The parser's message quotes the text around the error, which may be key material.
      throw new ConfigError(`Invalid configuration: ${KEY_FILE_VAR}: the file is not valid JSON`);
    }
    const r = keyFileJsonSchema.safeParse(json);
    if (!r.success) throw new ConfigError(`Invalid configuration: ${describeIssues(r.error.issues, KEY_FILE_VAR)}`);
    return {
      keys: parseKeyEntries(r.data.keys, (i) => `${KEY_FILE_VAR}.keys[${i}]`),
      currentKeyId: r.data.currentKeyId,
    };
  }
  const lines = text
    .split(/\r?\n/)
    .map((line, i) => ({ line: line.trim(), n: i + 1 }))
    .filter(({ line }) => line !== '' && !line.startsWith('#'));
  if (!lines.length) throw new ConfigError(`Invalid configuration: ${KEY_FILE_VAR}: the file lists no keys`);
  const keys = entriesOrThrow(
    lines.map(({ line }) => splitEntry(line)),
    (i) => `${KEY_FILE_VAR} line ${lines[i]!.n}`
  );
  return { keys, currentKeyId: undefined };
}

/**
 * Payload encryption keys from `PAYLOAD_ENCRYPTION_KEYS` (`id:base64key,…`) or `PAYLOAD_ENCRYPTION_KEY_FILE`,
 * and the current key id from `PAYLOAD_ENCRYPTION_KEY_ID` (else the file's `currentKeyId`, else the only
 * key). Undefined when no keys are configured: encryption is off. With `PAYLOAD_ENCRYPTION_REQUIRED=true`
 * keys are required (a process without them would write cleartext to history) and the ring's codecs refuse to
 * decode a payload that is not encrypted.
 */
export function parsePayloadEncryption(env: NodeJS.ProcessEnv): KeyRing | undefined {
  const e = parseEnv(payloadEncryptionEnvSchema, env);
  const keys = readKeys(e);
  if (keys === undefined && e.PAYLOAD_ENCRYPTION_REQUIRED) {
    throw new ConfigError(
      'Invalid configuration: env.PAYLOAD_ENCRYPTION_REQUIRED is true but there are no keys (it would write payloads in clear); set PAYLOAD_ENCRYPTION_KEYS or PAYLOAD_ENCRYPTION_KEY_FILE'
    );
  }
  return keys && new KeyRing(keys.keys, keys.currentKeyId, { requireEncrypted: e.PAYLOAD_ENCRYPTION_REQUIRED });
}

function readKeys(
  e: z.output<typeof payloadEncryptionEnvSchema>
): { keys: [string, Buffer][]; currentKeyId: string } | undefined {
  if (e.PAYLOAD_ENCRYPTION_KEYS && e.PAYLOAD_ENCRYPTION_KEY_FILE) {
    throw new ConfigError(
      'Invalid configuration: set either PAYLOAD_ENCRYPTION_KEYS or PAYLOAD_ENCRYPTION_KEY_FILE, not both'
    );
  }
  let keys: [string, Buffer][];
  let fileKeyId: string | undefined;
  if (e.PAYLOAD_ENCRYPTION_KEYS) {
    const entries = e.PAYLOAD_ENCRYPTION_KEYS.split(',').map((s) => s.trim());
    keys = entriesOrThrow(
      entries.map((s) => splitEntry(s)),
      (i) => `${KEYS_VAR}[${i}]`
    );
  } else if (e.PAYLOAD_ENCRYPTION_KEY_FILE) {
    ({ keys, currentKeyId: fileKeyId } = readKeyFile(e.PAYLOAD_ENCRYPTION_KEY_FILE));
  } else {
    if (e.PAYLOAD_ENCRYPTION_KEY_ID) {
      throw new ConfigError(
        `Invalid configuration: ${KEY_ID_VAR} is set but there are no keys; set PAYLOAD_ENCRYPTION_KEYS or PAYLOAD_ENCRYPTION_KEY_FILE`
      );
    }
    return undefined;
  }
  const ids = keys.map(([id]) => id);
  const source = e.PAYLOAD_ENCRYPTION_KEY_ID ? KEY_ID_VAR : fileKeyId ? `${KEY_FILE_VAR}.currentKeyId` : undefined;
  const currentKeyId = e.PAYLOAD_ENCRYPTION_KEY_ID ?? fileKeyId ?? (ids.length === 1 ? ids[0] : undefined);
  if (currentKeyId === undefined) {
    throw new ConfigError(
      `Invalid configuration: ${KEY_ID_VAR} is required when several keys are configured (key ids: ${ids.join(', ')})`
    );
  }
  if (!ids.includes(currentKeyId)) {
    throw new ConfigError(
      `Invalid configuration: ${source}: "${currentKeyId}" is not one of the configured key ids (${ids.join(', ')})`
    );
  }
  return { keys, currentKeyId };
}

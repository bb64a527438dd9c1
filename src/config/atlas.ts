import { z } from 'zod';
import { basicCredentials, DEFAULT_ATLAS_BASE_URL, type AtlasCredentials } from '../atlas';
import { isLoopbackHost } from '../net/loopback';
import { durationSchema } from '../shared/contract/durations';
import { boolString, optionalEnv, optionalString, parseEnv } from './env';
import { ConfigError } from './errors';
import { withSecretFiles } from './secret-files';

/** The Atlas Admin API: where it is, how the worker signs in, how long a request may take. */
export interface AtlasConfig {
  baseUrl: string;
  credentials: AtlasCredentials;
  requestTimeoutMs: number;
}

/** Our credential variables, and the Atlas CLI's names for the same values (`atlas config` documents them). */
const CREDENTIAL_VARIABLES = {
  clientId: ['ATLAS_CLIENT_ID', 'MONGODB_ATLAS_CLIENT_ID'],
  clientSecret: ['ATLAS_CLIENT_SECRET', 'MONGODB_ATLAS_CLIENT_SECRET'],
  publicKey: ['ATLAS_PUBLIC_KEY', 'MONGODB_ATLAS_PUBLIC_API_KEY'],
  privateKey: ['ATLAS_PRIVATE_KEY', 'MONGODB_ATLAS_PRIVATE_API_KEY'],
} as const;
type CredentialField = keyof typeof CREDENTIAL_VARIABLES;
/** The secret halves, which may also come from a file (`<NAME>_FILE`). */
export const ATLAS_SECRET_VARIABLES: readonly string[] = [
  ...CREDENTIAL_VARIABLES.clientSecret,
  ...CREDENTIAL_VARIABLES.privateKey,
];
const FIELDS = Object.keys(CREDENTIAL_VARIABLES) as CredentialField[];

const atlasEnvSchema = z.object({
  ATLAS_BASE_URL: optionalString
    .default(DEFAULT_ATLAS_BASE_URL)
    .pipe(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. https://cloud.mongodb.com' }))
    .refine((u) => {
      // zod runs this check even when the URL check above failed; that failure already names the variable.
      if (!URL.canParse(u)) return true;
      const url = new URL(u);
      return (
        !url.username && !url.password && !url.search && !url.hash && (url.pathname === '/' || url.pathname === '')
      );
    }, 'must be an origin only (scheme, host, port): no credentials, path, query or fragment'),
  /** At most an hour: past 2^31 - 1 ms, Node's timers fire at once (every request would abort) or throw. */
  ATLAS_REQUEST_TIMEOUT: optionalEnv(durationSchema.pipe(z.number().max(3_600_000, 'must be at most 1h'))),
  /**
   * Retired: it once allowed plain http to a single-label host. Still read, so a worker configured with it is told
   * why its start is refused instead of being silently ignored.
   */
  ATLAS_ALLOW_INSECURE_HTTP: boolString,
});

const blank = (v: string | undefined) => !v?.trim();

/**
 * The credential variables in force, by field: ours (`ATLAS_*`) when any of them is set, else the Atlas CLI's
 * (`MONGODB_ATLAS_*`). The two sets are never mixed, so a half-set pair of ours is reported, not completed
 * from the other set.
 */
function credentialVariables(env: NodeJS.ProcessEnv): Record<CredentialField, string> {
  const ours = FIELDS.some((f) => !blank(env[CREDENTIAL_VARIABLES[f][0]]));
  const pick = ours ? 0 : 1;
  return Object.fromEntries(FIELDS.map((f) => [f, CREDENTIAL_VARIABLES[f][pick]])) as Record<CredentialField, string>;
}

/** True when the environment names Atlas credentials (either kind, ours or the Atlas CLI's), complete or not. */
export function hasAtlasCredentials(env: NodeJS.ProcessEnv): boolean {
  return FIELDS.some((f) => CREDENTIAL_VARIABLES[f].some((name) => !blank(env[name])));
}

function readCredentials(env: NodeJS.ProcessEnv): AtlasCredentials {
  const names = credentialVariables(env);
  const value = (f: CredentialField) => env[names[f]]?.trim() || undefined;
  const [clientId, clientSecret, publicKey, privateKey] = FIELDS.map(value);
  const serviceAccount = !!clientId || !!clientSecret;
  const apiKey = !!publicKey || !!privateKey;
  if (serviceAccount && apiKey) {
    throw new ConfigError(
      `Invalid configuration: set either ${names.clientId}/${names.clientSecret} (service account) or ${names.publicKey}/${names.privateKey} (API key), not both`
    );
  }
  if (serviceAccount) {
    if (!clientId || !clientSecret) {
      throw new ConfigError(
        `Invalid configuration: env.${clientId ? names.clientSecret : names.clientId} is missing; a service account needs both ${names.clientId} and ${names.clientSecret}`
      );
    }
    return { mode: 'service-account', clientId, clientSecret };
  }
  if (apiKey) {
    if (!publicKey || !privateKey) {
      throw new ConfigError(
        `Invalid configuration: env.${publicKey ? names.privateKey : names.publicKey} is missing; an API key needs both ${names.publicKey} and ${names.privateKey}`
      );
    }
    return { mode: 'api-key', publicKey, privateKey };
  }
  throw new ConfigError(
    'Invalid configuration: no Atlas credentials; set ATLAS_CLIENT_ID and ATLAS_CLIENT_SECRET (service account, recommended) or ATLAS_PUBLIC_KEY and ATLAS_PRIVATE_KEY (API key); the Atlas CLI names MONGODB_ATLAS_CLIENT_ID, MONGODB_ATLAS_CLIENT_SECRET, MONGODB_ATLAS_PUBLIC_API_KEY and MONGODB_ATLAS_PRIVATE_API_KEY are read when ours are unset'
  );
}

/** The credentials' secret values, for the log redactor: the secret itself and, for a service account, the `Basic` value. */
export function atlasSecrets(c: AtlasCredentials): string[] {
  return c.mode === 'api-key' ? [c.privateKey] : [c.clientSecret, basicCredentials(c.clientId, c.clientSecret)];
}

/** Every variable Atlas is configured by, ours and the Atlas CLI's. */
export const ATLAS_VARIABLES: readonly string[] = [
  ...Object.keys(atlasEnvSchema.shape),
  ...FIELDS.flatMap((f) => CREDENTIAL_VARIABLES[f]),
  ...ATLAS_SECRET_VARIABLES.map((name) => `${name}_FILE`),
];

/**
 * Plain http carries the credentials in clear (a service account's secret in a `Basic` header), so it is allowed to
 * a loopback host only: a simulator or a tunnel in the worker's own network namespace (docker-compose.yml runs its
 * simulator that way). One `http://` typo in a real Atlas URL must not send the secret, and no flag opens http to
 * another host: `ATLAS_ALLOW_INSECURE_HTTP`, which once did for single-label names, now only explains the refusal.
 */
function checkInsecureHttp(url: URL, retiredFlag: boolean): void {
  if (url.protocol === 'https:' || isLoopbackHost(url.hostname)) return;
  throw new ConfigError(
    `Invalid configuration: env.ATLAS_BASE_URL: must use https, since credentials travel with every request; plain http is allowed only to a loopback host (127.0.0.1, ::1, localhost), not ${url.hostname}` +
      (retiredFlag
        ? ". env.ATLAS_ALLOW_INSECURE_HTTP no longer allows other hosts: run a simulator in the worker's network namespace and use http://127.0.0.1:<port>"
        : '')
  );
}

export function parseAtlasConfig(environment: NodeJS.ProcessEnv): AtlasConfig {
  const e = parseEnv(atlasEnvSchema, environment);
  const env = withSecretFiles(environment, ATLAS_SECRET_VARIABLES);
  checkInsecureHttp(new URL(e.ATLAS_BASE_URL), e.ATLAS_ALLOW_INSECURE_HTTP);
  return Object.freeze({
    baseUrl: e.ATLAS_BASE_URL.replace(/\/+$/, ''),
    credentials: Object.freeze(readCredentials(env)),
    requestTimeoutMs: e.ATLAS_REQUEST_TIMEOUT ?? 30_000,
  });
}

import { accessSync, constants, existsSync } from 'node:fs';
import { platform } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { TLSConfig } from '@temporalio/client';
import { loadClientConfigProfile, toClientOptions, type ClientConfigProfile } from '@temporalio/envconfig';
import { z } from 'zod';
import type { KeyRing } from '../codec/key-ring';
import { hostOfAddress, isLoopbackHost } from '../net/loopback';
import { DEFAULT_TASK_QUEUE } from '../shared/contract/export-contract';
import { boolString, optionalString, parseEnv } from './env';
import { ConfigError } from './errors';
import { parsePayloadEncryption } from './payload-encryption';
import { checkOwnerOnlyAt, withSecretFiles } from './secret-files';

/**
 * The Temporal connection, read as the `temporal` CLI and the SDKs read it (`@temporalio/envconfig`): a profile
 * (`TEMPORAL_PROFILE`, default `default`) of a TOML file (`TEMPORAL_CONFIG_FILE`, default
 * `~/.config/temporalio/temporal.toml`), overridden by `TEMPORAL_*` variables. `TEMPORAL_TLS=false` turns TLS off
 * even with an API key, as Temporal's environment configuration reference says. Our own additions:
 * `TEMPORAL_TASK_QUEUE`, blank means unset, and every bad value is a `ConfigError` naming where it came from.
 */
export interface TemporalConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  /** Temporal Cloud API key; implies TLS unless TLS is explicitly disabled. */
  apiKey: string | undefined;
  /** Where the API key was read from (`TEMPORAL_API_KEY_FILE`): watched for rotation by long-lived processes. */
  apiKeyFile: string | undefined;
  /** `false`: plaintext; otherwise TLS with these settings (certificates already read). */
  tls: false | TLSConfig;
  /** gRPC metadata sent with every call (`TEMPORAL_GRPC_META_*`, the profile's `grpc_meta`). */
  grpcMeta: Record<string, string> | undefined;
  /** Payload encryption keys (`PAYLOAD_ENCRYPTION_*`); undefined: payloads are not encrypted. */
  payloadEncryption: KeyRing | undefined;
  /** The transport security in force, as the start-up log names it. */
  transport: TemporalTransport;
}

/**
 * How the connection is protected: `tls` (server authenticated), `mtls` (and a client certificate), `api-key`
 * (TLS and an API key); `plaintext-loopback` (no TLS to this machine); `plaintext` (no TLS to another host,
 * allowed only by `TEMPORAL_ALLOW_PLAINTEXT=true`).
 */
export type TemporalTransport = 'tls' | 'mtls' | 'api-key' | 'plaintext-loopback' | 'plaintext';

/** Every variable of the connection: those envconfig reads (as the CLI does) and ours; plus `TEMPORAL_GRPC_META_*`. */
export const TEMPORAL_VARIABLES = [
  'TEMPORAL_CONFIG_FILE',
  'TEMPORAL_PROFILE',
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_TASK_QUEUE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_API_KEY_FILE',
  'TEMPORAL_TLS',
  ...['CLIENT_CERT', 'CLIENT_KEY', 'SERVER_CA_CERT'].flatMap((f) => [
    `TEMPORAL_TLS_${f}_PATH`,
    `TEMPORAL_TLS_${f}_DATA`,
  ]),
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_ALLOW_PLAINTEXT',
] as const;

const ADDRESS = /^[^\s:/]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/;
const ADDRESS_HINT = 'must be host:port, e.g. localhost:7233';

const tlsFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], 'must be true or false')
  .transform((v) => (['true', '1', 'yes'].includes(v) ? 'true' : 'false'));

/** Our checks of the variables envconfig reads; envconfig itself takes any string. */
const temporalEnvSchema = z.object({
  TEMPORAL_ADDRESS: optionalString.pipe(z.string().regex(ADDRESS, ADDRESS_HINT).optional()),
  TEMPORAL_TASK_QUEUE: optionalString.default(DEFAULT_TASK_QUEUE).pipe(z.string().min(1)),
  TEMPORAL_TLS: optionalString.pipe(tlsFlag.optional()),
  TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: optionalString.refine(
    (v) => v === undefined || ['false', '0'].includes(v),
    'is not supported: the TypeScript SDK always verifies the server name (set TEMPORAL_TLS_SERVER_NAME instead)'
  ),
  TEMPORAL_PROFILE: optionalString,
  TEMPORAL_CONFIG_FILE: optionalString,
  /** Plaintext to a host other than loopback (e.g. the compose network); never across a network you do not own. */
  TEMPORAL_ALLOW_PLAINTEXT: boolString,
});

/** The profile envconfig produced, checked: a TOML file can hold any type where a string belongs. */
const profileSchema = z.object({
  address: z.string().regex(ADDRESS, ADDRESS_HINT).optional(),
  namespace: z.string().min(1).optional(),
  apiKey: z.string().min(1).optional(),
  grpcMeta: z.record(z.string(), z.string()).optional(),
});

/** Env for envconfig: `TEMPORAL_*` values trimmed, blank ones dropped (gRPC metadata keeps blank = remove). */
function envForEnvconfig(env: NodeJS.ProcessEnv, tls: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (!name.startsWith('TEMPORAL_') || name.startsWith('TEMPORAL_GRPC_META_')) out[name] = value;
    else if (value.trim() !== '') out[name] = value.trim();
  }
  if (tls === undefined) delete out.TEMPORAL_TLS;
  else out.TEMPORAL_TLS = tls;
  return out;
}

/** Where a profile setting came from, for messages: the variable when set, else the file's key. */
function sourceOf(env: Record<string, string>, variable: string, key: string): string {
  if (env[variable] !== undefined) return `env.${variable}`;
  const file = env.TEMPORAL_CONFIG_FILE ? 'TEMPORAL_CONFIG_FILE' : 'the default Temporal config file';
  return `profile.${env.TEMPORAL_PROFILE ?? 'default'}.${key} in ${file}`;
}

const TLS_FILE_VARIABLES = ['CLIENT_CERT', 'CLIENT_KEY', 'SERVER_CA_CERT'].map((f) => `TEMPORAL_TLS_${f}_PATH`);

/** envconfig's errors, said in our terms (never quoting file contents: a TOML line can hold an API key). */
function translate(err: unknown, env: Record<string, string>): ConfigError {
  const file = env.TEMPORAL_CONFIG_FILE ? 'env.TEMPORAL_CONFIG_FILE' : 'the default Temporal config file';
  const e = err as Partial<NodeJS.ErrnoException> & { line?: number; column?: number; codeblock?: string };
  if (e.codeblock !== undefined) {
    return new ConfigError(`Invalid configuration: ${file}: not valid TOML (line ${e.line}, column ${e.column})`);
  }
  const message = e.message ?? String(err);
  if (/^Profile '.*' not found/.test(message)) {
    return new ConfigError(
      `Invalid configuration: env.TEMPORAL_PROFILE: no profile "${env.TEMPORAL_PROFILE}" in ${file}`
    );
  }
  const both = /^Cannot specify both (\w+)_path and \w+_data/.exec(message);
  if (both) {
    const v = `TEMPORAL_TLS_${both[1]!.toUpperCase()}`;
    return new ConfigError(`Invalid configuration: set ${v}_PATH or ${v}_DATA (${both[1]}_path or _data), not both`);
  }
  if (e.code !== undefined && e.path !== undefined) {
    const tls = TLS_FILE_VARIABLES.find((v) => env[v] === e.path);
    const where = tls ? `env.${tls}` : e.path === env.TEMPORAL_CONFIG_FILE ? file : 'a TLS file of the profile';
    return new ConfigError(`Invalid configuration: ${where}: cannot read the file (${e.code})`);
  }
  return new ConfigError(`Invalid configuration: ${file}: ${message}`);
}

function loadProfile(env: Record<string, string>): ClientConfigProfile {
  if (env.TEMPORAL_CONFIG_FILE !== undefined) {
    // envconfig ignores a missing file; a file named on purpose that is not there is a typo, not "no profile".
    try {
      accessSync(env.TEMPORAL_CONFIG_FILE, constants.R_OK);
    } catch (err) {
      throw translate(err, env);
    }
  }
  try {
    return loadClientConfigProfile({ overrideEnvVars: env });
  } catch (err) {
    throw translate(err, env);
  }
}

/** A client certificate without its key (or the reverse) would connect without client authentication. */
function checkCertPair(profile: ClientConfigProfile, env: Record<string, string>): void {
  const tls = profile.tls;
  if (!tls || tls.disabled || Boolean(tls.clientCert) === Boolean(tls.clientKey)) return;
  const [missing, given] = tls.clientCert ? ['KEY', 'CERT'] : ['CERT', 'KEY'];
  const givenVar = ['PATH', 'DATA'].map((s) => `TEMPORAL_TLS_CLIENT_${given}_${s}`).find((v) => env[v] !== undefined);
  throw new ConfigError(
    `Invalid configuration: ${givenVar ? `env.${givenVar}` : `the profile's client_${given.toLowerCase()}`} is set without the client ${missing.toLowerCase()}; set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH (or the _DATA variants) together`
  );
}

/**
 * The config file envconfig reads: `TEMPORAL_CONFIG_FILE`, else its default, as envconfig 1.24 computes it
 * (`getDefaultConfigFilePath`, not exported): `%APPDATA%`, `~/Library/Application Support`, or
 * `$XDG_CONFIG_HOME` (absolute) or `~/.config`, then `temporalio/temporal.toml`.
 */
function configFilePath(env: Record<string, string>): string | undefined {
  if (env.TEMPORAL_CONFIG_FILE !== undefined) return env.TEMPORAL_CONFIG_FILE;
  const { HOME: home, XDG_CONFIG_HOME: xdg, APPDATA: appData } = env;
  let dir: string | undefined;
  if (platform() === 'win32') dir = appData || undefined;
  else if (platform() === 'darwin') dir = home ? join(home, 'Library', 'Application Support') : undefined;
  else if (xdg) dir = isAbsolute(xdg) ? xdg : undefined;
  else dir = home ? join(home, '.config') : undefined;
  return dir === undefined ? undefined : join(dir, 'temporalio', 'temporal.toml');
}

/**
 * Secrets in files are the owner's alone, as every `*_FILE` secret (`checkOwnerOnlyAt`): the TLS client key file
 * (`TEMPORAL_TLS_CLIENT_KEY_PATH` or the profile's `tls.client_key_path`), and the config file itself when the
 * selected profile holds `api_key` or a client key (`client_key_data`, or its path), whatever the variables
 * override: the file still holds them.
 */
function checkSecretFileModes(profile: ClientConfigProfile, env: Record<string, string>): void {
  const key = profile.tls?.clientKey;
  if (key && 'path' in key) {
    checkOwnerOnlyAt(sourceOf(env, 'TEMPORAL_TLS_CLIENT_KEY_PATH', 'tls.client_key_path'), key.path);
  }
  const file = configFilePath(env);
  if (file === undefined || !existsSync(file)) return;
  const name = env.TEMPORAL_PROFILE ?? 'default';
  // The file alone (no variable overrides); a missing `default` profile is an empty one, as envconfig reads it.
  const inFile = loadClientConfigProfile({ configSource: { path: file }, disableEnv: true, overrideEnvVars: env });
  const secrets = [
    ...(inFile.apiKey ? ['api_key'] : []),
    ...(inFile.tls?.clientKey ? ['path' in inFile.tls.clientKey ? 'tls.client_key_path' : 'tls.client_key_data'] : []),
  ];
  if (secrets.length === 0) return;
  const variable =
    env.TEMPORAL_CONFIG_FILE !== undefined ? 'env.TEMPORAL_CONFIG_FILE' : 'the default Temporal config file';
  checkOwnerOnlyAt(`${variable} (profile.${name} holds ${secrets.join(' and ')})`, file);
}

/**
 * The transport in force; refuses plaintext to a host other than loopback unless `TEMPORAL_ALLOW_PLAINTEXT=true`:
 * whoever can intercept that connection can hand the worker tasks that run with its Atlas identity.
 */
function transportOf(
  address: string,
  tls: TemporalConfig['tls'],
  apiKey: string | undefined,
  allowPlaintext: boolean,
  source: string
): TemporalTransport {
  if (tls !== false) return apiKey ? 'api-key' : tls.clientCertPair ? 'mtls' : 'tls';
  if (isLoopbackHost(hostOfAddress(address))) return 'plaintext-loopback';
  if (allowPlaintext) return 'plaintext';
  throw new ConfigError(
    `Invalid configuration: ${source}: ${address} is not a loopback address, and the connection has no TLS` +
      `${apiKey ? ' (the API key would travel in clear)' : ''}; set TEMPORAL_TLS=true (or TEMPORAL_API_KEY, or` +
      ' TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH), or TEMPORAL_ALLOW_PLAINTEXT=true on a' +
      ' network only you can reach (docs/security.md)'
  );
}

export function parseTemporalConfig(environment: NodeJS.ProcessEnv): TemporalConfig {
  const env = withSecretFiles(environment, ['TEMPORAL_API_KEY']);
  const e = parseEnv(temporalEnvSchema, env);
  const envconfigEnv = envForEnvconfig(env, e.TEMPORAL_TLS);
  const profile = loadProfile(envconfigEnv);
  const checked = profileSchema.safeParse(profile);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const key = String(issue.path[0]);
    const names: Record<string, [string, string]> = {
      address: ['TEMPORAL_ADDRESS', 'address'],
      namespace: ['TEMPORAL_NAMESPACE', 'namespace'],
      apiKey: ['TEMPORAL_API_KEY', 'api_key'],
      grpcMeta: ['TEMPORAL_GRPC_META_*', 'grpc_meta'],
    };
    const [variable, tomlKey] = names[key] ?? [key, key];
    throw new ConfigError(`Invalid configuration: ${sourceOf(envconfigEnv, variable, tomlKey)}: ${issue.message}`);
  }
  checkCertPair(profile, envconfigEnv);
  checkSecretFileModes(profile, envconfigEnv);
  let connect: ReturnType<typeof toClientOptions>;
  try {
    connect = toClientOptions(profile);
  } catch (err) {
    throw translate(err, envconfigEnv);
  }
  const { tls: given, apiKey, metadata } = connect.connectionOptions;
  const address = checked.data.address ?? 'localhost:7233';
  const tls = given === undefined || given === null || given === false ? false : given === true ? {} : given;
  const source = checked.data.address ? sourceOf(envconfigEnv, 'TEMPORAL_ADDRESS', 'address') : 'env.TEMPORAL_ADDRESS';
  return Object.freeze({
    address,
    namespace: connect.namespace ?? 'default',
    taskQueue: e.TEMPORAL_TASK_QUEUE,
    apiKey,
    // envconfig read the key from TEMPORAL_API_KEY (the file's content, by withSecretFiles) when the file is set.
    apiKeyFile: env.TEMPORAL_API_KEY_FILE?.trim() || undefined,
    tls,
    // envconfig 1.24 turns only the first `_` of a key into `-`; the CLI and the reference turn every one.
    grpcMeta: metadata
      ? Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k.replace(/_/g, '-'), String(v)]))
      : undefined,
    payloadEncryption: parsePayloadEncryption(env),
    transport: transportOf(address, tls, apiKey, e.TEMPORAL_ALLOW_PLAINTEXT, source),
  });
}

import { parseArgs } from 'node:util';
import { z } from 'zod';
import { AtlasSimulator, DEV_CREDENTIALS } from './server';
import { DEFAULT_EXPORT_PLAN } from './export-jobs';
import { type SimulatorOptions } from './types';

const USAGE = `Usage: tsx src/simulator/main.ts [options]

Runs the Atlas Admin API simulator, seeds the default fixtures and prints one JSON line
{"url": ..., "fixtures": {...}, "timeScale": ...} to stdout. Logs go to stderr.

Options:
  --host <host>                 interface to listen on (default 127.0.0.1)
  --port <port>                 port (default 0: ephemeral)
  --time-scale <n>              simulated ms per real ms (default 1)
  --seed <n>                    id generator seed (default 1)
  --state-file <path>           persist state to this JSON file and reload it on start
  --queued-ms <ms>              simulated ms export jobs stay Queued (default ${DEFAULT_EXPORT_PLAN.queuedMs})
  --in-progress-ms <ms>         simulated ms export jobs stay InProgress (default ${DEFAULT_EXPORT_PLAN.inProgressMs})
  --outcome <state>             Successful | Failed | Cancelled (default Successful)
  --rate-capacity <n>           token bucket capacity per project (default 1200)
  --rate-refill-per-minute <n>  token refill per simulated minute (default 500)
  --no-rate-limit               disable rate limiting
  --token-ttl-seconds <n>       OAuth token lifetime in real seconds (default 3600)
  --nonce-ttl-seconds <n>       digest nonce lifetime in real seconds (default 300)
  -h, --help                    show this help

Environment: SIMULATOR_PUBLIC_KEY, SIMULATOR_PRIVATE_KEY (digest API key), SIMULATOR_CLIENT_ID,
SIMULATOR_CLIENT_SECRET (service account). Development defaults are used when unset.
`;

const num = z.coerce.number().finite();
const argsSchema = z.object({
  host: z.string().min(1).default('127.0.0.1'),
  port: num.int().min(0).max(65535).default(0),
  'time-scale': num.positive().default(1),
  seed: num.int().default(1),
  'state-file': z.string().min(1).optional(),
  'queued-ms': num.nonnegative().default(DEFAULT_EXPORT_PLAN.queuedMs),
  'in-progress-ms': num.nonnegative().default(DEFAULT_EXPORT_PLAN.inProgressMs),
  outcome: z.enum(['Successful', 'Failed', 'Cancelled']).default('Successful'),
  'rate-capacity': num.int().min(1).default(1200),
  'rate-refill-per-minute': num.positive().default(500),
  'no-rate-limit': z.boolean().default(false),
  'token-ttl-seconds': num.positive().default(3600),
  'nonce-ttl-seconds': num.positive().default(300),
});

const envSchema = z.object({
  SIMULATOR_PUBLIC_KEY: z.string().min(1).optional(),
  SIMULATOR_PRIVATE_KEY: z.string().min(1).optional(),
  SIMULATOR_CLIENT_ID: z.string().min(1).optional(),
  SIMULATOR_CLIENT_SECRET: z.string().min(1).optional(),
});

/** Result of parsing the command line: options to start with, or a request for help. */
export type CliParse = { help: true } | { help: false; options: SimulatorOptions };

/**
 * Parses and validates CLI arguments and credential environment variables.
 * @throws Error with a readable message on invalid input
 */
export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv): CliParse {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'time-scale': { type: 'string' },
      seed: { type: 'string' },
      'state-file': { type: 'string' },
      'queued-ms': { type: 'string' },
      'in-progress-ms': { type: 'string' },
      outcome: { type: 'string' },
      'rate-capacity': { type: 'string' },
      'rate-refill-per-minute': { type: 'string' },
      'no-rate-limit': { type: 'boolean' },
      'token-ttl-seconds': { type: 'string' },
      'nonce-ttl-seconds': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return { help: true };
  const { help: _help, ...rest } = values;
  const args = argsSchema.safeParse(rest);
  if (!args.success) throw new Error(`invalid arguments:\n${z.prettifyError(args.error)}`);
  const vars = envSchema.safeParse(env);
  if (!vars.success) throw new Error(`invalid environment:\n${z.prettifyError(vars.error)}`);
  const a = args.data;
  const e = vars.data;
  const [devKey] = DEV_CREDENTIALS.apiKeys;
  const [devAccount] = DEV_CREDENTIALS.serviceAccounts;
  const options: SimulatorOptions = {
    host: a.host,
    port: a.port,
    timeScale: a['time-scale'],
    seed: a.seed,
    defaultExportPlan: { queuedMs: a['queued-ms'], inProgressMs: a['in-progress-ms'], outcome: a.outcome },
    rateLimit: a['no-rate-limit']
      ? false
      : { capacity: a['rate-capacity'], refillPerMinute: a['rate-refill-per-minute'] },
    tokenTtlSeconds: a['token-ttl-seconds'],
    nonceTtlSeconds: a['nonce-ttl-seconds'],
    credentials: {
      apiKeys: [
        {
          publicKey: e.SIMULATOR_PUBLIC_KEY ?? devKey?.publicKey ?? '',
          privateKey: e.SIMULATOR_PRIVATE_KEY ?? devKey?.privateKey ?? '',
        },
      ],
      serviceAccounts: [
        {
          clientId: e.SIMULATOR_CLIENT_ID ?? devAccount?.clientId ?? '',
          clientSecret: e.SIMULATOR_CLIENT_SECRET ?? devAccount?.clientSecret ?? '',
        },
      ],
    },
  };
  if (a['state-file'] !== undefined) options.stateFile = a['state-file'];
  return { help: false, options };
}

async function main(): Promise<void> {
  let parsed: CliParse;
  try {
    parsed = parseCli(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (parsed.help) {
    process.stdout.write(USAGE);
    return;
  }
  const { options } = parsed;
  const sim = await AtlasSimulator.start(options);
  const fixtures = sim.defaultFixtures ?? sim.seedDefault();
  process.stdout.write(`${JSON.stringify({ url: sim.url, fixtures, timeScale: options.timeScale })}\n`);
  const rate =
    options.rateLimit === false ? 'off' : `${options.rateLimit?.capacity}/${options.rateLimit?.refillPerMinute}`;
  process.stderr.write(
    `[atlas-sim] listening on ${sim.url} (time scale ${options.timeScale}x, rate limit ${rate}, ` +
      `api key ${options.credentials?.apiKeys?.[0]?.publicKey}, service account ${options.credentials?.serviceAccounts?.[0]?.clientId}` +
      `${options.stateFile !== undefined ? `, state file ${options.stateFile}` : ''})\n`
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`[atlas-sim] ${signal}: shutting down\n`);
    sim.close().then(
      () => process.stderr.write('[atlas-sim] stopped\n'),
      (err: unknown) => {
        process.stderr.write(`[atlas-sim] error while closing: ${String(err)}\n`);
        process.exitCode = 1;
      }
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`[atlas-sim] failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}

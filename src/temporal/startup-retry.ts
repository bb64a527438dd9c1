import { isGrpcServiceError } from '@temporalio/client';

/**
 * Start-up steps that talk to the Temporal server (connect, search attributes, task-queue configuration) retry
 * what a server hiccup looks like, for a bounded time, and let everything else through at once. The worker exits
 * 69 (EX_UNAVAILABLE, restart me) when the wait runs out, and keeps 78 (EX_CONFIG, a person must fix something)
 * for configuration errors.
 */

/** gRPC status codes: fixed by the gRPC spec, as in `@grpc/grpc-js`'s `status`. */
export const GrpcStatus = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

const CODE_NAMES = Object.fromEntries(Object.entries(GrpcStatus).map(([name, code]) => [code, name])) as Record<
  number,
  string
>;

const TRANSIENT_CODES = new Set<number>([
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.RESOURCE_EXHAUSTED,
  GrpcStatus.ABORTED,
  GrpcStatus.INTERNAL,
  GrpcStatus.UNKNOWN,
]);

const CONFIGURATION_CODES = new Set<number>([
  GrpcStatus.INVALID_ARGUMENT,
  GrpcStatus.NOT_FOUND,
  GrpcStatus.PERMISSION_DENIED,
  GrpcStatus.UNAUTHENTICATED,
  GrpcStatus.FAILED_PRECONDITION,
  GrpcStatus.UNIMPLEMENTED,
]);

/**
 * The Rust core reports a failed `GetSystemInfo` at connect as a `TransportError` whose message carries only
 * tonic's description of the code (`Failed to call GetSystemInfo: code: 'The service is currently unavailable',
 * message: "…"`), so the code is read back from that text.
 */
const TONIC_CODE_DESCRIPTIONS: Record<string, number> = {
  'The operation was cancelled': GrpcStatus.CANCELLED,
  'Unknown error': GrpcStatus.UNKNOWN,
  'Client specified an invalid argument': GrpcStatus.INVALID_ARGUMENT,
  'Deadline expired before operation could complete': GrpcStatus.DEADLINE_EXCEEDED,
  'Some requested entity was not found': GrpcStatus.NOT_FOUND,
  'Some entity that we attempted to create already exists': GrpcStatus.ALREADY_EXISTS,
  'The caller does not have permission to execute the specified operation': GrpcStatus.PERMISSION_DENIED,
  'Some resource has been exhausted': GrpcStatus.RESOURCE_EXHAUSTED,
  "The system is not in a state required for the operation's execution": GrpcStatus.FAILED_PRECONDITION,
  'The operation was aborted': GrpcStatus.ABORTED,
  'Operation was attempted past the valid range': GrpcStatus.OUT_OF_RANGE,
  'Operation is not implemented or not supported': GrpcStatus.UNIMPLEMENTED,
  'Internal error': GrpcStatus.INTERNAL,
  'The service is currently unavailable': GrpcStatus.UNAVAILABLE,
  'Unrecoverable data loss or corruption': GrpcStatus.DATA_LOSS,
  'The request does not have valid authentication credentials': GrpcStatus.UNAUTHENTICATED,
};
const SYSTEM_INFO_CODE = /^Failed to call GetSystemInfo: code: '([^']+)'/;

/**
 * A connect that never reached a gRPC answer: the Rust core's `TransportError` text (a tonic/hyper/io error
 * rendered with `{:?}`), which names the io error kind. Refused, reset, timed out or not resolvable yet (a
 * container that is still starting) all pass with time.
 */
const TRANSIENT_TRANSPORT =
  /ConnectionRefused|ConnectionReset|ConnectionAborted|NotConnected|BrokenPipe|UnexpectedEof|TimedOut|timed out|HostUnreachable|NetworkUnreachable|AddrNotAvailable|dns error|connection closed/i;
/** TLS that cannot work as configured: a plain-text server, or a certificate the client does not trust. */
const TLS_CONFIGURATION = /InvalidContentType|InvalidCertificate|invalid peer certificate|AlertReceived/;

/**
 * Task-queue user-data write conflicts. Observed on Temporal Server 1.32 (the CLI 1.9.1 dev server, SQLite): a
 * client killed during `UpdateTaskQueueConfig` leaves the matching service's copy behind the stored one, and for
 * about 5 s every update fails with INVALID_ARGUMENT and one of these messages. The first is the text every SQL
 * store returns for a failed conditional update; the insert conflict is matched for the stores' wordings.
 */
const USER_DATA_CONFLICT =
  /Expected exactly one row to be updated|(UNIQUE constraint failed|duplicate key value|Duplicate entry).*task_queue_user_data/;

export type StartupErrorKind = 'transient' | 'configuration' | 'unknown';

/** The server's answer in an error (or its causes): the gRPC code, from the error object or (connect) its text. */
function grpcAnswerOf(err: unknown): { code: number; message: string } | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (isGrpcServiceError(e) && typeof e.code === 'number') return { code: e.code, message: e.message };
    const described = SYSTEM_INFO_CODE.exec(e.message)?.[1];
    const code = described === undefined ? undefined : TONIC_CODE_DESCRIPTIONS[described];
    if (code !== undefined) return { code, message: e.message };
  }
  return undefined;
}

/**
 * Whether a start-up step's error passes with time (`transient`: retry), needs a person (`configuration`: the
 * worker exits 78), or is neither (`unknown`: not retried, the worker exits 1).
 */
export function classifyStartupError(err: unknown): StartupErrorKind {
  const answer = grpcAnswerOf(err);
  if (answer !== undefined) {
    const { code } = answer;
    if (code === GrpcStatus.INVALID_ARGUMENT && USER_DATA_CONFLICT.test(answer.message)) return 'transient';
    if (TRANSIENT_CODES.has(code)) return 'transient';
    if (CONFIGURATION_CODES.has(code)) return 'configuration';
    return 'unknown';
  }
  if (err instanceof Error && err.name === 'TransportError') {
    if (TLS_CONFIGURATION.test(err.message)) return 'configuration';
    if (TRANSIENT_TRANSPORT.test(err.message)) return 'transient';
  }
  return 'unknown';
}

/** `tonic::transport::Error(Transport, ConnectError(ConnectError("tcp connect error", …, message: "Connection refused" })))` */
const TRANSPORT_SUMMARY = /ConnectError\("([^"]+)"[^]*?(?:message|error): "([^"]+)"/;

/** One line for logs and messages: the code name and the server's message, or what failed to connect. */
export function describeStartupError(err: unknown): string {
  const message = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').slice(0, 500);
  const code = grpcAnswerOf(err)?.code;
  if (code !== undefined) return SYSTEM_INFO_CODE.test(message) ? message : `${CODE_NAMES[code] ?? code}: ${message}`;
  const transport = TRANSPORT_SUMMARY.exec(message);
  return transport ? `${transport[1]}: ${transport[2]}` : message;
}

/** A transient error outlasted the start-up wait. */
export class StartupUnavailableError extends Error {
  override readonly name = 'StartupUnavailableError';
  constructor(
    readonly step: string,
    readonly address: string,
    readonly attempts: number,
    readonly waitedMs: number,
    cause: unknown
  ) {
    super(
      `Could not ${step} at ${address}: still failing after ${attempts} attempts over ${Math.round(waitedMs / 1000)} s ` +
        `(${describeStartupError(cause)})`,
      { cause }
    );
  }
}

/** The process was asked to stop while it was starting. */
export class StartupAbortedError extends Error {
  override readonly name = 'StartupAbortedError';
}

export interface StartupRetryOptions {
  /** How long all steps together keep retrying, from the creation of the runner. */
  maxWaitMs: number;
  /** The server's address, for log lines and messages. */
  address: string;
  /** Called before each wait; `reason` is the error's code and message (the server's words, no request data). */
  onRetry: (event: { step: string; attempt: number; delayMs: number; reason: string; remainingMs: number }) => void;
  /** Stops the waiting (SIGTERM while starting). */
  signal?: AbortSignal;
  /** Longest a single call may take, so a server that accepts and never answers is tried again (30 s). */
  attemptTimeoutMs?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Runs one start-up step; `attempt` receives the deadline to give its server call. */
export type StartupStep = <T>(step: string, attempt: (deadline: Date) => Promise<T>) => Promise<T>;

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * A runner for the start-up steps: each retries transient errors with exponential backoff (doubling from
 * `initialDelayMs` up to `maxDelayMs`, each wait drawn from its upper half) until `maxWaitMs` after the runner
 * was created; the last attempt is made at that deadline. Other errors are rethrown as they are.
 */
export function startupRetry(options: StartupRetryOptions): StartupStep {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? abortableSleep;
  const initialDelayMs = options.initialDelayMs ?? 250;
  const maxDelayMs = options.maxDelayMs ?? 10_000;
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 30_000;
  const startedAt = now();
  const deadline = startedAt + options.maxWaitMs;
  const checkAborted = (step: string) => {
    if (options.signal?.aborted) throw new StartupAbortedError(`Stopped while waiting to ${step}`);
  };

  return async <T>(step: string, attempt: (deadline: Date) => Promise<T>): Promise<T> => {
    const stepStartedAt = now();
    for (let n = 1; ; n++) {
      checkAborted(step);
      try {
        // At least a second, so the attempt at the deadline is not refused before it is sent.
        const callDeadline = Math.max(now() + 1_000, Math.min(deadline, now() + attemptTimeoutMs));
        return await attempt(new Date(callDeadline));
      } catch (err) {
        if (classifyStartupError(err) !== 'transient') throw err;
        const remainingMs = deadline - now();
        if (remainingMs <= 0) {
          throw new StartupUnavailableError(step, options.address, n, now() - stepStartedAt, err);
        }
        const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** (n - 1));
        const delayMs = Math.min(remainingMs, Math.round(ceiling / 2 + (random() * ceiling) / 2));
        options.onRetry({ step, attempt: n, delayMs, reason: describeStartupError(err), remainingMs });
        await sleep(delayMs, options.signal);
      }
    }
  };
}

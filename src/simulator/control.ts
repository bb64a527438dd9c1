import { z } from 'zod';
import { webhookFaultsSchema, type WebhookDelivery, type WebhookFaults } from './alert-webhooks';
import { apiErrorBody } from './errors';
import {
  type DefaultFixtures,
  type ExportPlan,
  type Fault,
  type PlanMatch,
  type RequestLogEntry,
  type SimExportJob,
  type SimStats,
} from './types';

/** What the control API drives; implemented by `AtlasSimulator`. */
export interface SimulatorControl {
  injectFaults(...faults: Fault[]): void;
  clearFaults(): void;
  pendingFaults(): { fault: Fault; remaining: number }[];
  readonly requests: RequestLogEntry[];
  resetLog(): void;
  exportJobs(groupId?: string): ReadonlyArray<SimExportJob>;
  readonly stats: SimStats;
  setExportPlan(plan: ExportPlan | undefined, match?: PlanMatch): void;
  setTimeScale(scale: number): void;
  seedDefault(): DefaultFixtures;
  setWebhookFaults(faults: Partial<WebhookFaults>): void;
  readonly webhookDeliveries: readonly WebhookDelivery[];
}

const operationSchema = z.enum([
  'createExportJob',
  'getExportJob',
  'listExportJobs',
  'getSnapshot',
  'listSnapshots',
  'takeSnapshot',
  'listExportBuckets',
  'getExportBucket',
  'createAlertConfiguration',
  'listAlertConfigurations',
  'oauthToken',
  'unknown',
  'any',
]);

/** zod schema of {@link Fault}. */
export const faultSchema = z.strictObject({
  operation: operationSchema.optional(),
  method: z.string().min(1).optional(),
  pathIncludes: z.string().min(1).optional(),
  times: z.number().int().positive().optional(),
  kind: z.enum([
    'status',
    'reset',
    'malformed',
    'delay',
    'schemaDrift',
    'unknownState',
    'slowBody',
    'patchBody',
    'emptyList',
    'replaceBody',
    'oversizedBody',
  ]),
  status: z.number().int().min(100).max(599).optional(),
  errorCode: z.string().min(1).optional(),
  detail: z.string().optional(),
  retryAfterSeconds: z.number().int().nonnegative().optional(),
  retryAfter: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
  set: z.record(z.string().min(1), z.unknown()).optional(),
  omit: z.array(z.string().min(1)).optional(),
  itemIndex: z.number().int().nonnegative().optional(),
  page: z.boolean().optional(),
  body: z.unknown().optional(),
  sizeBytes: z
    .number()
    .int()
    .positive()
    .max(2 ** 32)
    .optional(),
  delayMs: z.number().nonnegative().max(600_000).optional(),
  afterHandling: z.boolean().optional(),
}) satisfies z.ZodType<Fault>;

/** zod schema of {@link ExportPlan}. */
export const exportPlanSchema = z.strictObject({
  queuedMs: z.number().nonnegative().finite(),
  inProgressMs: z.number().nonnegative().finite(),
  totalCollections: z.number().int().nonnegative().optional(),
  outcome: z.enum(['Successful', 'Failed', 'Cancelled']).optional(),
  stateReason: z.object({ errorCode: z.string(), message: z.string() }).optional(),
  jitterRatio: z.number().min(0).max(1).optional(),
}) satisfies z.ZodType<ExportPlan>;

const planMatchSchema = z.strictObject({
  groupId: z.string().optional(),
  clusterName: z.string().optional(),
  snapshotId: z.string().optional(),
}) satisfies z.ZodType<PlanMatch>;

const planBodySchema = z.strictObject({ plan: exportPlanSchema.nullable(), match: planMatchSchema.optional() });
const timeScaleBodySchema = z.strictObject({ timeScale: z.number().positive().finite() });

/** A control API response. */
export interface ControlResponse {
  status: number;
  body?: unknown;
}

interface ControlRoute {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  handle: (sim: SimulatorControl, input: { body: unknown; query: URLSearchParams }) => ControlResponse;
}

class ControlInputError extends Error {}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) throw new ControlInputError(z.prettifyError(result.error));
  return result.data;
}

/** The control routes under `/__sim/`. */
export const CONTROL_ROUTES: readonly ControlRoute[] = [
  {
    method: 'POST',
    path: '/__sim/faults',
    handle: (sim, { body }) => {
      const faults = parse(z.array(faultSchema), body);
      sim.injectFaults(...faults);
      return { status: 200, body: { queued: faults.length } };
    },
  },
  { method: 'GET', path: '/__sim/faults', handle: (sim) => ({ status: 200, body: sim.pendingFaults() }) },
  {
    method: 'DELETE',
    path: '/__sim/faults',
    handle: (sim) => {
      sim.clearFaults();
      return { status: 204 };
    },
  },
  { method: 'GET', path: '/__sim/requests', handle: (sim) => ({ status: 200, body: sim.requests }) },
  {
    method: 'DELETE',
    path: '/__sim/requests',
    handle: (sim) => {
      sim.resetLog();
      return { status: 204 };
    },
  },
  {
    method: 'GET',
    path: '/__sim/jobs',
    handle: (sim, { query }) => ({ status: 200, body: sim.exportJobs(query.get('groupId') ?? undefined) }),
  },
  { method: 'GET', path: '/__sim/stats', handle: (sim) => ({ status: 200, body: sim.stats }) },
  {
    method: 'POST',
    path: '/__sim/plan',
    handle: (sim, { body }) => {
      const { plan, match } = parse(planBodySchema, body);
      sim.setExportPlan(plan ?? undefined, match);
      return { status: 204 };
    },
  },
  {
    method: 'POST',
    path: '/__sim/time-scale',
    handle: (sim, { body }) => {
      sim.setTimeScale(parse(timeScaleBodySchema, body).timeScale);
      return { status: 204 };
    },
  },
  {
    method: 'POST',
    path: '/__sim/webhooks',
    handle: (sim, { body }) => {
      sim.setWebhookFaults(parse(webhookFaultsSchema, body));
      return { status: 204 };
    },
  },
  { method: 'GET', path: '/__sim/webhooks', handle: (sim) => ({ status: 200, body: sim.webhookDeliveries }) },
  { method: 'POST', path: '/__sim/fixtures/default', handle: (sim) => ({ status: 200, body: sim.seedDefault() }) },
];

/** Serves one control request. `rawBody` is parsed as JSON when non-empty. */
export function handleControl(
  sim: SimulatorControl,
  method: string,
  path: string,
  query: URLSearchParams,
  rawBody: string
): ControlResponse {
  const normalized = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  const route = CONTROL_ROUTES.find((r) => r.method === method && r.path === normalized);
  if (route === undefined) {
    return { status: 404, body: apiErrorBody(404, 'RESOURCE_NOT_FOUND', `No control route ${method} ${path}.`) };
  }
  try {
    let body: unknown;
    if (rawBody.trim() !== '') {
      try {
        body = JSON.parse(rawBody) as unknown;
      } catch {
        throw new ControlInputError('body is not valid JSON');
      }
    }
    return route.handle(sim, { body, query });
  } catch (err) {
    if (err instanceof ControlInputError || err instanceof RangeError) {
      return { status: 400, body: apiErrorBody(400, 'VALIDATION_ERROR', err.message) };
    }
    throw err;
  }
}

import { request } from 'undici';
import { z } from 'zod';
import { signAtlasWebhook } from '../webhooks/atlas-signature';
import type { SimClock } from './clock';
import { SimApiError } from './errors';
import type { IdGenerator, SeededRandom } from './random';
import type { SimExportJob } from './types';

/**
 * Alert configurations (`POST/GET …/groups/{groupId}/alertConfigs`) and the webhooks Atlas posts for them: when
 * an export job of a project with a `CPS_EXPORT_SUCCESSFUL`/`CPS_EXPORT_FAILED` configuration ends, each of its
 * `WEBHOOK` notifications gets the Alerts resource as JSON, signed in `X-MMS-Signature` when it has a secret.
 * Delivery faults (control API `/__sim/webhooks`): a delay (simulated ms), a loss rate and extra copies. The
 * alert's `created`/`updated` are the real time of delivery: the receiver checks them against its own clock.
 */

/** `WebhookNotification` of the official spec (other notification types are kept as given). */
const notificationSchema = z.looseObject({
  typeName: z.string().min(1),
  webhookUrl: z.url().optional(),
  webhookSecret: z.string().optional(),
  delayMin: z.number().int().nonnegative().optional(),
  intervalMin: z.number().int().min(5).optional(),
});

/** The body of `createAlertConfiguration` (`GroupAlertsConfig`), the fields the simulator acts on checked. */
export const alertConfigBodySchema = z.looseObject({
  eventTypeName: z.string().min(1),
  enabled: z.boolean().optional(),
  notifications: z.array(notificationSchema).min(1),
});

/** The alert configuration body, or 400 `VALIDATION_ERROR` naming the fields (the spec's `GroupAlertsConfig`). */
export function parseAlertConfigBody(rawBody: string) {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    throw new SimApiError(400, 'MALFORMED_JSON', 'Received JSON is malformed.');
  }
  const parsed = alertConfigBodySchema.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => ({ field: i.path.join('.'), description: i.message }));
    throw new SimApiError(400, 'VALIDATION_ERROR', 'Alert configuration is invalid.', { fields });
  }
  return parsed.data;
}

export interface AlertConfigRecord {
  id: string;
  groupId: string;
  eventTypeName: string;
  enabled: boolean;
  notifications: z.infer<typeof notificationSchema>[];
  created: string;
}

/** Delivery faults: `delayMs` of simulated time, `lossRate` in [0, 1], `duplicates` extra copies of each. */
export const webhookFaultsSchema = z.strictObject({
  delayMs: z.number().nonnegative().max(86_400_000).optional(),
  lossRate: z.number().min(0).max(1).optional(),
  duplicates: z.number().int().min(0).max(10).optional(),
});
export type WebhookFaults = Required<z.infer<typeof webhookFaultsSchema>>;

/** One delivery attempt as the simulator made it; `status` 0: lost on purpose or unreachable. */
export interface WebhookDelivery {
  at: Date;
  url: string;
  alertId: string;
  groupId: string;
  exportJobId: string;
  eventTypeName: string;
  status: number;
  lost: boolean;
}

const EVENT_OF_OUTCOME: Record<string, string | undefined> = {
  Successful: 'CPS_EXPORT_SUCCESSFUL',
  Failed: 'CPS_EXPORT_FAILED',
};

export class AlertWebhooks {
  private readonly configs = new Map<string, AlertConfigRecord[]>();
  /** Jobs whose end was alerted (or that had ended before a configuration existed). */
  private readonly alerted = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private ticker: NodeJS.Timeout | undefined;
  readonly deliveries: WebhookDelivery[] = [];
  faults: WebhookFaults = { delayMs: 0, lossRate: 0, duplicates: 0 };

  constructor(
    private readonly clock: SimClock,
    private readonly ids: IdGenerator,
    private readonly random: SeededRandom,
    private readonly jobs: () => ReadonlyArray<SimExportJob>
  ) {}

  create(groupId: string, body: z.infer<typeof alertConfigBodySchema>): AlertConfigRecord {
    const record: AlertConfigRecord = {
      id: this.ids.next(),
      groupId,
      eventTypeName: body.eventTypeName,
      enabled: body.enabled ?? true,
      notifications: body.notifications,
      created: new Date(this.clock.now()).toISOString(),
    };
    for (const job of this.jobs()) if (job.groupId === groupId && job.finishedAt) this.alerted.add(job.id);
    this.configs.set(groupId, [...(this.configs.get(groupId) ?? []), record]);
    this.ticker ??= setInterval(() => this.tick(), 25).unref();
    return record;
  }

  list(groupId: string): AlertConfigRecord[] {
    return this.configs.get(groupId) ?? [];
  }

  /** A configuration as Atlas shows it: the webhook secret redacted. */
  static render(record: AlertConfigRecord): Record<string, unknown> {
    return {
      ...record,
      updated: record.created,
      notifications: record.notifications.map((n) => (n.webhookSecret ? { ...n, webhookSecret: '******' } : n)),
      matchers: [],
      links: [],
    };
  }

  close(): void {
    if (this.ticker) clearInterval(this.ticker);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private tick(): void {
    for (const job of this.jobs()) {
      if (!job.finishedAt || this.alerted.has(job.id)) continue;
      this.alerted.add(job.id);
      const eventTypeName = EVENT_OF_OUTCOME[job.state];
      if (!eventTypeName) continue;
      for (const config of this.list(job.groupId)) {
        if (!config.enabled || config.eventTypeName !== eventTypeName) continue;
        for (const n of config.notifications) {
          if (n.typeName === 'WEBHOOK' && n.webhookUrl) this.schedule(job, config, n.webhookUrl, n.webhookSecret);
        }
      }
    }
  }

  private schedule(job: SimExportJob, config: AlertConfigRecord, url: string, secret: string | undefined): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.deliver(job, config, url, secret);
    }, this.clock.realMsFor(this.faults.delayMs));
    this.timers.add(timer);
  }

  private async deliver(job: SimExportJob, config: AlertConfigRecord, url: string, secret: string | undefined) {
    const now = new Date().toISOString();
    const alert = {
      id: this.ids.next(),
      groupId: job.groupId,
      alertConfigId: config.id,
      eventTypeName: config.eventTypeName,
      status: 'OPEN',
      created: now,
      updated: now,
      clusterName: job.clusterName,
      humanReadable: `Export job ${job.id} of cluster ${job.clusterName} ended ${job.state}.`,
      links: [],
    };
    const record = {
      url,
      alertId: alert.id,
      groupId: job.groupId,
      exportJobId: job.id,
      eventTypeName: alert.eventTypeName,
    };
    if (this.faults.lossRate > 0 && this.random.nextFloat() < this.faults.lossRate) {
      this.deliveries.push({ at: new Date(), ...record, status: 0, lost: true });
      return;
    }
    const body = JSON.stringify(alert);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (secret) headers['x-mms-signature'] = signAtlasWebhook(secret, body);
    for (let copy = 0; copy <= this.faults.duplicates; copy++) {
      let status: number;
      try {
        const res = await request(url, { method: 'POST', body, headers, headersTimeout: 10_000, bodyTimeout: 10_000 });
        status = res.statusCode;
        await res.body.dump();
      } catch {
        status = 0; // unreachable: Atlas would try again later; the simulator does not
      }
      this.deliveries.push({ at: new Date(), ...record, status, lost: false });
    }
  }
}

import { activityInfo, heartbeat } from '@temporalio/activity';
import { z } from 'zod';

/**
 * What an activity carries from one attempt to the next: identifiers, counts and instants only, never an Atlas
 * answer or a credential. Unreadable or missing fields read as their defaults.
 */
const carriedSchema = z.object({
  /** Atlas calls that failed in a row in this activity (any attempt), reset by one that succeeds. */
  consecutiveErrors: z.number().int().nonnegative().catch(0),
  /**
   * `createExportJob`: Atlas answered a POST of this activity with 2xx, so the job exists; no later attempt may POST
   * again. `exportJobId` when the answer named it.
   */
  postAccepted: z
    .object({ exportJobId: z.string().min(1).optional().catch(undefined) })
    .optional()
    .catch(undefined),
  /**
   * `createExportJob`: when (epoch ms, worker clock) a POST was sent whose outcome is unknown (no answer, or a
   * gateway's 502/504): Atlas may still act on it, so a new POST waits until it could not.
   */
  postUncertainAt: z.number().finite().optional().catch(undefined),
  /** The snapshot paths that serve the cluster's snapshots, once found. */
  clusterKind: z.enum(['replicaSet', 'shardedCluster']).optional().catch(undefined),
});
export type CarriedState = z.infer<typeof carriedSchema>;

/** Marks heartbeat details written by {@link AttemptCarry}, so other details are not mistaken for them. */
const FORMAT = 'attempt-carry/1';

/**
 * State an activity keeps across its attempts in heartbeat details: an attempt that fails (retryably) after
 * `flush()` hands the details to the next attempt, which reads them in `activityInfo().heartbeatDetails`
 * (checked on the dev server: test/workflows/heartbeat-carry.test.ts). A heartbeat is one billed Temporal action,
 * so `flush()` sends only when the state changed since the attempt began (or since the last flush): normal
 * polling never heartbeats.
 */
export class AttemptCarry {
  private sent: string;

  private constructor(public state: CarriedState) {
    this.sent = JSON.stringify(state);
  }

  /** The state the previous attempts left (defaults in the first attempt). */
  static load(): AttemptCarry {
    const details: unknown = activityInfo().heartbeatDetails;
    const tagged =
      typeof details === 'object' && details !== null && (details as { format?: unknown }).format === FORMAT
        ? details
        : {};
    return new AttemptCarry(carriedSchema.parse(tagged));
  }

  update(patch: Partial<CarriedState>): void {
    this.state = carriedSchema.parse({ ...this.state, ...patch });
  }

  /** Sends the state as heartbeat details if it changed; call it before the attempt fails. */
  flush(): void {
    const now = JSON.stringify(this.state);
    if (now === this.sent) return;
    heartbeat({ format: FORMAT, ...this.state });
    this.sent = now;
  }
}

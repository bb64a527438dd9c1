import { CancellationScope, condition, log, patched, setHandler } from '@temporalio/workflow';
import { atlasEventHintSignal } from './messages';

/**
 * Patch of behaviour that recorded histories did not have, taken only when a hint arrives during a wait: the wait
 * (a `pollExportJob` activity between reads) is cancelled so the run can confirm with one read. Before, a hint
 * signal had no handler and changed nothing.
 */
export const ATLAS_EVENT_HINT_PATCH = 'atlas-event-hint';

/**
 * The `atlasEventHint` signals of a run: the webhook receiver's word that an export of this project ended in
 * Atlas. A hint is never taken as a state: it only ends the current wait early, and the run reads the job once.
 * Hints that arrive together (or while a read is under way) make one wake-up.
 */
export class EventHints {
  private pending = false;

  constructor() {
    setHandler(atlasEventHintSignal, (hint) => {
      log.info('Atlas alert: an export of this project ended; confirming with one read', {
        eventTypeName: hint?.eventTypeName,
        alertId: hint?.alertId,
      });
      this.pending = true;
    });
  }

  /**
   * `poll`'s result, or `'hint'` when a hint arrived first: the wait (`pollScope`) was then cancelled, and the
   * caller confirms with one read. A poll that answered anyway (its attempt was reading) gives its fresh result.
   */
  async wakeable<T>(poll: Promise<T>, pollScope: CancellationScope): Promise<T | 'hint'> {
    const hintScope = new CancellationScope();
    const hinted = hintScope.run(() => condition(() => this.pending));
    const first = await Promise.race([
      poll.then(
        () => 'poll' as const,
        () => 'poll' as const
      ),
      hinted.then(
        () => 'hint' as const,
        () => 'poll' as const
      ),
    ]);
    if (first === 'poll' || !patched(ATLAS_EVENT_HINT_PATCH)) {
      hintScope.cancel();
      return poll;
    }
    this.pending = false;
    pollScope.cancel();
    // Whatever the cancelled wait ends in (cancelled, or a failure instead of a retry), the confirming read follows.
    return poll.catch(() => 'hint' as const);
  }
}

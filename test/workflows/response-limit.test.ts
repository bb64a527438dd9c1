import { describe, expect, it } from 'vitest';
import { FailureType } from '../../src/shared/contract/failure-types';
import { failureOf, useExportSuite } from '../helpers/export-harness';

const suite = useExportSuite();

describe('an oversized Atlas answer', () => {
  it('fails the export at once as AtlasResponseTooLarge, not retried', async () => {
    const snapshotId = suite.h.freshSnapshot();
    // Chunked, without Content-Length: only reading tells the client, and it stops at the 8 MiB default.
    suite.atlas.sim.injectFaults({ operation: 'getExportJob', kind: 'oversizedBody', sizeBytes: 12 * 1024 * 1024 });
    const handle = await suite.h.start(suite.h.input({ snapshotId }));
    const failure = await failureOf(handle);
    expect(failure.type).toBe(FailureType.AtlasResponseTooLarge);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/answered 200 with a body over the 8388608-byte response limit/);
    expect(failure.message).toContain('WORKER_ATLAS_MAX_RESPONSE_BYTES');
    const job = suite.h.jobsOf(handle.workflowId)[0];
    expect(job).toBeDefined();
    // Not retried: the faulted read is the job's only one (a retryable failure would read it again).
    const reads = suite.h.requestsFor(job!.id, 'getExportJob');
    expect(reads.map((r) => r.faultInjected)).toEqual(['oversizedBody']);
  }, 60_000);
});

import { DefaultFailureConverter } from '@temporalio/common';

/**
 * The failure converter used when payload encryption is on: a failure's message and stack trace (which can carry
 * Atlas's `detail`, bad-request fields or a job's `stateReason.message`) move into `encodedAttributes`, a payload
 * the codec encrypts; the history keeps `Encoded failure` as the message. Loaded by path (the SDK requires a
 * module exporting `failureConverter`), in the workflow sandbox as well as by workers and clients.
 */
/**
 * A string a workflow bundle built with this converter contains (webpack keeps it), so a worker with keys can
 * refuse a prebuilt bundle whose workflows would still write failure messages in clear.
 */
export const ENCODED_FAILURES_BUNDLE_MARKER = 'atlas-export-orchestrator:encoded-failures:v1';

export const failureConverter = Object.assign(new DefaultFailureConverter({ encodeCommonAttributes: true }), {
  bundleMarker: ENCODED_FAILURES_BUNDLE_MARKER,
});

/**
 * The workflow contract on its own: input and result types with their zod schemas, query and signal names,
 * failure types and workflow ids. It imports only zod and @temporalio/common, so a caller's workflow code may
 * import it (the published package's `atlas-export/contract`), where the client (`atlas-export`) is not allowed.
 */
export * from './export-contract';
export * from './scheduled-export-contract';
export * from './failure-types';
export * from './workflow-ids';
